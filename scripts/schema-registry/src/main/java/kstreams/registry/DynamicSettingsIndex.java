package kstreams.registry;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import java.util.List;
import javax.enterprise.inject.Produces;
import javax.inject.Singleton;

/**
 * Stands in for the registry's build-time index of settings that can be changed at run time (made by a
 * Quarkus extension whose build-time half Maven Central does not serve). The tests change no setting at
 * run time, so the index is empty; settings are read from the configuration as usual.
 */
public class DynamicSettingsIndex {
    @Produces
    @Singleton
    DynamicConfigPropertyList dynamicConfigPropertyList() {
        return new DynamicConfigPropertyList(List.of());
    }
}
