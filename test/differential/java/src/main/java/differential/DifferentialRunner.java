package differential;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Aggregator;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KGroupedTable;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.KeyValueMapper;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.kstream.ValueJoinerWithKey;
import org.apache.kafka.streams.kstream.ValueTransformerWithKey;
import org.apache.kafka.streams.kstream.ValueTransformerWithKeySupplier;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.kstream.TableJoined;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.VersionedBytesStoreSupplier;
import org.apache.kafka.streams.state.VersionedKeyValueStore;
import org.apache.kafka.streams.state.VersionedRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The Kafka Streams side of the differential suite (test/differential). Reads cases as JSON lines from stdin
 * (one object per line, the shape of `DifferentialCase` in test/differential/cases.ts), runs each through Kafka
 * Streams' own TopologyTestDriver, and prints one JSON line per case, in input order:
 *   {"id": "...", "records": [{"key": "a@0-10", "value": 2, "ts": 10}, ...], "description": "Topologies: ..."}
 *   or   {"id": "...", "error": "..."}
 * (description: Topology#describe()). Windowed keys print as key@start-end. The aggregation functions must stay
 * identical to the TypeScript side's (test/differential/ours.ts); a comment there and here names each.
 */
public final class DifferentialRunner {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The per-value-type functions of a case: the same on both sides, deterministic, null-safe. */
  interface Ops<V> {
    Serde<V> serde();
    V fromJson(JsonNode node);
    void toJson(ObjectNode out, String field, V value);
    V init();
    V aggregate(V agg, V value);
    V merge(V left, V right);
    V reduce(V left, V right);
    /** The filter family drops records whose value is the marker ("X" or a negative long). */
    boolean dropped(V value);
    /** A table case's mapValues. */
    V mapped(V value);
    V transformed(String key, V value);
    /** A table groupBy's subtractor. */
    V subtract(V agg, V value);
    /** A table groupBy's new key; null for some values. */
    String group(V value);
    /** A foreign-key join's foreign key (a key of "tbl"), as cases.ts' foreignKey; null for some values. */
    String foreignKey(V value);
    /** What a global-store case's processor keeps for a key, as cases.ts' globalStored. */
    V globalStored(V old, V value, long timestamp, long offset);
  }

  static final Ops<String> STRINGS = new Ops<>() {
    public Serde<String> serde() { return Serdes.String(); }
    public String fromJson(JsonNode node) { return node == null || node.isNull() ? null : node.asText(); }
    public void toJson(ObjectNode out, String field, String value) { out.put(field, value); }
    public String init() { return ""; }
    // "null" is how both Java and JavaScript print a null in a string concatenation.
    public String aggregate(String agg, String value) { return agg + "|" + value; }
    public String merge(String left, String right) { return left + "&" + right; }
    public String reduce(String left, String right) { return left + "+" + right; }
    public boolean dropped(String value) { return "X".equals(value); }
    public String mapped(String value) { return value + "!"; }
    public String transformed(String key, String value) { return value + "~" + key; }
    public String subtract(String agg, String value) { return agg + "-" + value; }
    public String group(String value) { return "e".equals(value) ? null : "a".equals(value) || "b".equals(value) ? "g1" : "g2"; }
    public String foreignKey(String value) { return value.startsWith("e") ? null : value.startsWith("d") ? "a" : value.substring(0, 1); }
    public String globalStored(String old, String value, long timestamp, long offset) {
      return (old == null ? "" : old + "+") + value + "@" + timestamp + "#" + offset;
    }
  };

  static final Ops<Long> LONGS = new Ops<>() {
    public Serde<Long> serde() { return Serdes.Long(); }
    public Long fromJson(JsonNode node) { return node == null || node.isNull() ? null : node.asLong(); }
    public void toJson(ObjectNode out, String field, Long value) {
      if (value == null) out.putNull(field); else out.put(field, value.longValue());
    }
    public Long init() { return 0L; }
    public Long aggregate(Long agg, Long value) { return nz(agg, 0) + nz(value, 100); }
    public Long merge(Long left, Long right) { return nz(left, 0) + nz(right, 0); }
    public Long reduce(Long left, Long right) { return nz(left, 0) + nz(right, 100); }
    public boolean dropped(Long value) { return value != null && value < 0; }
    public Long mapped(Long value) { return value * 2; }
    public Long transformed(String key, Long value) { return value * 3 + key.length(); }
    public Long subtract(Long agg, Long value) { return agg - value; }
    public String group(Long value) { return value == 9L ? null : "g" + (value % 3); }
    public String foreignKey(Long value) { return new String[] {"a", "b", "c", null}[(int) (((value % 4) + 4) % 4)]; }
    public Long globalStored(Long old, Long value, long timestamp, long offset) { return nz(old, 0) + value * 10 + timestamp * 100 + offset; }
  };

  static long nz(Long value, long otherwise) { return value == null ? otherwise : value; }

  public static void main(String[] args) throws Exception {
    int threads = Math.max(1, Integer.parseInt(System.getProperty("threads", "2")));
    Path stateRoot = Files.createTempDirectory("kstreams-differential-");
    List<JsonNode> cases = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!line.isBlank()) cases.add(JSON.readTree(line));
      }
    }
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < cases.size(); i++) {
        JsonNode c = cases.get(i);
        Path dir = stateRoot.resolve("case-" + i);
        results.add(pool.submit(() -> runCase(c, dir)));
      }
      for (Future<String> result : results) out.println(result.get());
    } finally {
      pool.shutdown();
      out.flush();
      deleteRecursively(stateRoot);
    }
  }

  /** The description of the topology the current thread's case last drove (see drive). */
  static final ThreadLocal<String> DESCRIPTION = new ThreadLocal<>();

  static String runCase(JsonNode c, Path stateDir) {
    ObjectNode result = JSON.createObjectNode();
    result.put("id", c.get("id").asText());
    DESCRIPTION.remove();
    try {
      ArrayNode records = "long".equals(c.get("valueType").asText())
          ? run(c, LONGS, stateDir)
          : run(c, STRINGS, stateDir);
      result.set("records", records);
      result.put("description", DESCRIPTION.get());
    } catch (Throwable e) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) root = root.getCause();
      result.put("error", e.getClass().getSimpleName() + ": " + e.getMessage()
          + (root != e ? " (cause " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")" : ""));
    } finally {
      try {
        deleteRecursively(stateDir);
      } catch (IOException e) {
        // Left for the final cleanup of the whole folder.
      }
    }
    return result.toString();
  }

  static Properties properties(JsonNode c, Path stateDir) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "differential");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    String caching = c.get("caching").asText();
    // "off": no record cache at all; the other modes keep the default budget (10 MiB) and differ per store.
    long cacheBytes = "off".equals(caching) ? 0L : 10L * 1024 * 1024;
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.toString(cacheBytes));
    return props;
  }

  static <S extends StateStore, V> Materialized<String, V, S> materialized(JsonNode c, Serde<V> valueSerde) {
    Materialized<String, V, S> m = Materialized.with(Serdes.String(), valueSerde);
    switch (c.get("caching").asText()) {
      case "store-off": return m.withCachingDisabled();
      case "store-on": return m.withCachingEnabled();
      default: return m;
    }
  }

  static <V> ArrayNode run(JsonNode c, Ops<V> ops, Path stateDir) throws IOException {
    String topology = c.get("topology").asText();
    if ("passthrough".equals(topology)) return runPassthrough(c, stateDir);
    if (c.hasNonNull("globalStore")) return runGlobalStore(c, ops, stateDir);
    if ("versioned-store".equals(topology)) return runVersionedStore(c, stateDir);
    if (c.hasNonNull("table")) return runTable(c, ops, stateDir);
    if (c.hasNonNull("streamJoin")) return runStreamJoin(c, ops, stateDir);
    if ("cogroup".equals(topology)) return runCogroup(c, ops, stateDir);
    StreamsBuilder builder = new StreamsBuilder();
    Consumed<String, V> consumed = Consumed.with(Serdes.String(), ops.serde());
    if (c.path("extractor").asBoolean(false)) {
      // The event time is the (long) value; a record without one keeps its own timestamp.
      consumed = consumed.withTimestampExtractor(
          (record, partitionTime) -> record.value() == null ? record.timestamp() : ((Number) record.value()).longValue());
    }
    KStream<String, V> stream = builder.stream("in", consumed);
    if (c.get("filter").asBoolean()) stream = stream.filter((k, v) -> !ops.dropped(v));
    KGroupedStream<String, V> grouped = stream.groupByKey(Grouped.with(Serdes.String(), ops.serde()));
    String op = c.get("op").asText();
    JsonNode window = c.get("window");
    String windowType = window.get("type").asText();
    boolean suppress = c.get("suppress").asBoolean();
    // The serde of the results: count is a long whatever the input's type.
    Serde<?> valueOut = "count".equals(op) ? Serdes.Long() : ops.serde();
    Serde<?> keyOut;
    KTable<?, ?> table;
    if ("none".equals(windowType)) {
      keyOut = Serdes.String();
      switch (op) {
        case "count": table = grouped.count(materialized(c, Serdes.Long())); break;
        case "reduce": table = grouped.reduce(ops::reduce, materialized(c, ops.serde())); break;
        default: table = grouped.aggregate(ops::init, (k, v, agg) -> ops.aggregate(agg, v), materialized(c, ops.serde()));
      }
    } else if ("session".equals(windowType)) {
      long gap = window.get("gap").asLong();
      SessionWindows windows = window.get("noGrace").asBoolean()
          ? SessionWindows.ofInactivityGapWithNoGrace(Duration.ofMillis(gap))
          : SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(gap), Duration.ofMillis(window.get("grace").asLong()));
      keyOut = WindowedSerdes.sessionWindowedSerdeFrom(String.class);
      var sessions = grouped.windowedBy(windows);
      if (c.path("onWindowClose").asBoolean(false)) sessions = sessions.emitStrategy(EmitStrategy.onWindowClose());
      KTable<Windowed<String>, ?> t;
      switch (op) {
        case "count": t = sessions.count(materialized(c, Serdes.Long())); break;
        case "reduce": t = sessions.reduce(ops::reduce, materialized(c, ops.serde())); break;
        default: t = sessions.aggregate(ops::init, (k, v, agg) -> ops.aggregate(agg, v),
            (k, left, right) -> ops.merge(left, right), materialized(c, ops.serde()));
      }
      table = suppress ? t.suppress(Suppressed.untilWindowCloses(strictBuffer(c))) : t;
    } else if ("sliding".equals(windowType)) {
      long difference = window.get("size").asLong();
      SlidingWindows windows = window.get("noGrace").asBoolean()
          ? SlidingWindows.ofTimeDifferenceWithNoGrace(Duration.ofMillis(difference))
          : SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(difference), Duration.ofMillis(window.get("grace").asLong()));
      keyOut = WindowedSerdes.timeWindowedSerdeFrom(String.class, difference);
      var sliding = grouped.windowedBy(windows);
      if (c.path("onWindowClose").asBoolean(false)) sliding = sliding.emitStrategy(EmitStrategy.onWindowClose());
      KTable<Windowed<String>, ?> t;
      switch (op) {
        case "count": t = sliding.count(materialized(c, Serdes.Long())); break;
        case "reduce": t = sliding.reduce(ops::reduce, materialized(c, ops.serde())); break;
        default: t = sliding.aggregate(ops::init, (k, v, agg) -> ops.aggregate(agg, v), materialized(c, ops.serde()));
      }
      table = suppress ? t.suppress(Suppressed.untilWindowCloses(strictBuffer(c))) : t;
    } else {
      long size = window.get("size").asLong();
      long advance = window.get("advance").asLong();
      TimeWindows windows = window.get("noGrace").asBoolean()
          ? TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(size))
          : TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), Duration.ofMillis(window.get("grace").asLong()));
      if (advance != size) windows = windows.advanceBy(Duration.ofMillis(advance));
      keyOut = WindowedSerdes.timeWindowedSerdeFrom(String.class, size);
      var timed = grouped.windowedBy(windows);
      if (c.path("onWindowClose").asBoolean(false)) timed = timed.emitStrategy(EmitStrategy.onWindowClose());
      KTable<Windowed<String>, ?> t;
      switch (op) {
        case "count": t = timed.count(materialized(c, Serdes.Long())); break;
        case "reduce": t = timed.reduce(ops::reduce, materialized(c, ops.serde())); break;
        default: t = timed.aggregate(ops::init, (k, v, agg) -> ops.aggregate(agg, v), materialized(c, ops.serde()));
      }
      table = suppress ? t.suppress(Suppressed.untilWindowCloses(strictBuffer(c))) : t;
    }
    writeTo(table, keyOut, valueOut);
    return drive(builder.build(), c, stateDir, ops, keyOut.deserializer(), valueOut.deserializer());
  }

  /** The case's suppression buffer (bufferBound in cases.ts), before its full strategy. */
  static Suppressed.StrictBufferConfig strictBuffer(JsonNode c) {
    Suppressed.StrictBufferConfig buffer = Suppressed.BufferConfig.unbounded();
    JsonNode bound = c.path("bufferBound");
    if (bound.hasNonNull("maxRecords")) buffer = buffer.withMaxRecords(bound.get("maxRecords").asLong());
    if (bound.hasNonNull("maxBytes")) buffer = buffer.withMaxBytes(bound.get("maxBytes").asLong());
    return buffer;
  }

  /** The table of a table or join case (TableSpec in cases.ts): Materialized.as("store") or none, then its operators. */
  static <V> KTable<String, V> tableOf(StreamsBuilder builder, JsonNode c, String topic, Ops<V> ops) {
    JsonNode spec = c.get("table");
    Consumed<String, V> consumed = Consumed.with(Serdes.String(), ops.serde());
    boolean materialized = spec.get("materialized").asBoolean();
    KTable<String, V> table;
    if (spec.path("fromAggregate").asBoolean(false)) {
      table = builder.stream(topic, consumed)
          .groupByKey(Grouped.with(Serdes.String(), ops.serde()))
          .reduce(ops::reduce, materialized(c, ops.serde()));
    } else if (spec.hasNonNull("versioned")) {
      // A versioned store (never cached: KeyValueStoreMaterializer does not cache versioned stores).
      Materialized<String, V, KeyValueStore<Bytes, byte[]>> versioned = Materialized
          .<String, V>as(Stores.persistentVersionedKeyValueStore("store", Duration.ofMillis(spec.get("versioned").get("historyRetentionMs").asLong())))
          .withKeySerde(Serdes.String()).withValueSerde(ops.serde());
      table = spec.path("fromStream").asBoolean(false) ? builder.stream(topic, consumed).toTable(versioned) : builder.table(topic, consumed, versioned);
    } else if (spec.path("fromStream").asBoolean(false)) {
      KStream<String, V> stream = builder.stream(topic, consumed);
      table = materialized ? stream.toTable(storeAs(c, "store", ops)) : stream.toTable();
    } else {
      table = materialized ? builder.table(topic, consumed, storeAs(c, "store", ops)) : builder.table(topic, consumed);
    }
    table = withOps(table, spec.get("ops"), c, ops, spec.path("storedOps").asBoolean(false));
    if (spec.hasNonNull("suppressLimit")) {
      // The same as cases.ts: an identity mapValues that gives the table its value serde back for the buffer.
      table = table.mapValues(v -> v, Materialized.<String, V, KeyValueStore<Bytes, byte[]>>with(Serdes.String(), ops.serde()));
      table = table.suppress(Suppressed.untilTimeLimit(
          Duration.ofMillis(spec.get("suppressLimit").asLong()),
          "emitEarly".equals(c.path("bufferBound").path("whenFull").asText())
              ? strictBuffer(c).emitEarlyWhenFull() : strictBuffer(c)));
    }
    return table;
  }

  /** The operators of a table case, in order (TableOp in cases.ts); `stored`: each keeps its results in `op<i>`. */
  static <V> KTable<String, V> withOps(KTable<String, V> table, JsonNode tableOps, JsonNode c, Ops<V> ops, boolean stored) {
    int i = 0;
    for (JsonNode op : tableOps) {
      String name = "op" + i++;
      switch (op.asText()) {
        case "filter":
          table = stored ? table.filter((k, v) -> !ops.dropped(v), storeAs(c, name, ops)) : table.filter((k, v) -> !ops.dropped(v));
          break;
        case "filterNot":
          table = stored ? table.filterNot((k, v) -> "b".equals(k), storeAs(c, name, ops)) : table.filterNot((k, v) -> "b".equals(k));
          break;
        case "transformValues": {
          // cases.ts' transformed, through a ValueTransformerWithKey that keeps null as null.
          ValueTransformerWithKeySupplier<String, V, V> transformer = () -> new ValueTransformerWithKey<String, V, V>() {
            public void init(org.apache.kafka.streams.processor.ProcessorContext context) {}
            public V transform(String k, V v) { return v == null ? null : ops.transformed(k, v); }
            public void close() {}
          };
          table = stored ? table.transformValues(transformer, storeAs(c, name, ops)) : table.transformValues(transformer);
          break;
        }
        default:
          table = stored ? table.mapValues(v -> ops.mapped(v), storeAs(c, name, ops)) : table.mapValues(v -> ops.mapped(v));
      }
    }
    return table;
  }

  /** `Materialized.as(name)` with the case's caching switch. */
  static <V> Materialized<String, V, KeyValueStore<Bytes, byte[]>> storeAs(JsonNode c, String name, Ops<V> ops) {
    JsonNode opsRetention = c.path("table").path("versioned").path("opsRetentionMs");
    if (name.startsWith("op") && opsRetention.isNumber()) {
      // versioned-*-ops cases: the operators' results in versioned stores (never cached).
      return Materialized.<String, V>as(Stores.persistentVersionedKeyValueStore(name, Duration.ofMillis(opsRetention.asLong())))
          .withKeySerde(Serdes.String()).withValueSerde(ops.serde());
    }
    Materialized<String, V, KeyValueStore<Bytes, byte[]>> m =
        Materialized.<String, V, KeyValueStore<Bytes, byte[]>>as(name).withKeySerde(Serdes.String()).withValueSerde(ops.serde());
    switch (c.get("caching").asText()) {
      case "store-off": return m.withCachingDisabled();
      case "store-on": return m.withCachingEnabled();
      default: return m;
    }
  }

  /** `table` cases: the table to "out"; `stream-table-join` cases: stream "in" joined with table "tbl". */
  static <V> ArrayNode runTable(JsonNode c, Ops<V> ops, Path stateDir) {
    StreamsBuilder builder = new StreamsBuilder();
    JsonNode spec = c.get("table");
    Serde<?> valueOut;
    if ("table".equals(c.get("topology").asText())) {
      tableOf(builder, c, "in", ops).toStream().to("out", Produced.with(Serdes.String(), ops.serde()));
      valueOut = ops.serde();
    } else if ("table-table-join".equals(c.get("topology").asText())) {
      KTable<String, V> left = tableOf(builder, c, "in", ops);
      KTable<String, V> right = builder.table("tbl", Consumed.with(Serdes.String(), ops.serde()));
      ValueJoiner<V, V, String> joiner = (l, r) -> l + "/" + r;
      KTable<String, String> joined;
      if (spec.path("storedJoin").asBoolean(false)) {
        Materialized<String, String, KeyValueStore<Bytes, byte[]>> m = storeAs(c, "joined", STRINGS);
        switch (spec.get("join").asText()) {
          case "inner": joined = left.join(right, joiner, m); break;
          case "left": joined = left.leftJoin(right, joiner, m); break;
          default: joined = left.outerJoin(right, joiner, m);
        }
      } else {
        switch (spec.get("join").asText()) {
          case "inner": joined = left.join(right, joiner); break;
          case "left": joined = left.leftJoin(right, joiner); break;
          default: joined = left.outerJoin(right, joiner);
        }
      }
      joined.toStream().to("out", Produced.with(Serdes.String(), Serdes.String()));
      valueOut = Serdes.String();
    } else if ("table-fk-join".equals(c.get("topology").asText())) {
      KTable<String, V> left = tableOf(builder, c, "in", ops);
      KTable<String, V> right = withOps(builder.table("tbl", Consumed.with(Serdes.String(), ops.serde())), spec.path("otherOps"), c, ops, false);
      ValueJoiner<V, V, String> joiner = (l, r) -> l + "/" + r;
      Function<V, String> foreignKey = ops::foreignKey;
      boolean inner = "inner".equals(spec.get("join").asText());
      TableJoined<String, String> tableJoined = tableJoinedOf(spec.path("tableJoined"));
      KTable<String, String> joined;
      if (tableJoined != null && spec.path("storedJoin").asBoolean(false)) {
        Materialized<String, String, KeyValueStore<Bytes, byte[]>> m = storeAs(c, "joined", STRINGS);
        joined = inner ? left.join(right, foreignKey, joiner, tableJoined, m) : left.leftJoin(right, foreignKey, joiner, tableJoined, m);
      } else if (tableJoined != null) {
        joined = inner ? left.join(right, foreignKey, joiner, tableJoined) : left.leftJoin(right, foreignKey, joiner, tableJoined);
      } else if (spec.path("storedJoin").asBoolean(false)) {
        Materialized<String, String, KeyValueStore<Bytes, byte[]>> m = storeAs(c, "joined", STRINGS);
        joined = inner ? left.join(right, foreignKey, joiner, m) : left.leftJoin(right, foreignKey, joiner, m);
      } else {
        joined = inner ? left.join(right, foreignKey, joiner) : left.leftJoin(right, foreignKey, joiner);
      }
      joined.toStream().to("out", Produced.with(Serdes.String(), Serdes.String()));
      valueOut = Serdes.String();
    } else if ("stream-globaltable-join".equals(c.get("topology").asText())) {
      KStream<String, V> stream = builder.stream("in", Consumed.with(Serdes.String(), ops.serde()));
      Consumed<String, V> consumed = Consumed.with(Serdes.String(), ops.serde());
      GlobalKTable<String, V> table = spec.path("materialized").asBoolean(false)
          ? builder.globalTable("tbl", consumed, storeAs(c, "store", ops))
          : builder.globalTable("tbl", consumed);
      String selector = spec.get("selector").asText();
      KeyValueMapper<String, V, String> keySelector = (k, v) -> globalKey(selector, k);
      // The same joiner as cases.ts' joinValuesWithKey.
      ValueJoinerWithKey<String, V, V, String> joiner = (k, left, right) -> k + ":" + left + "/" + right;
      KStream<String, String> out = "left".equals(spec.get("join").asText())
          ? stream.leftJoin(table, keySelector, joiner)
          : stream.join(table, keySelector, joiner);
      out.to("out", Produced.with(Serdes.String(), Serdes.String()));
      valueOut = Serdes.String();
    } else if (spec.hasNonNull("groupBy")) {
      KGroupedTable<String, V> grouped = tableOf(builder, c, "in", ops)
          .groupBy((k, v) -> KeyValue.pair(ops.group(v), v), Grouped.with(Serdes.String(), ops.serde()));
      KTable<String, ?> result;
      switch (spec.get("groupBy").asText()) {
        case "count": result = grouped.count(materialized(c, Serdes.Long())); valueOut = Serdes.Long(); break;
        case "reduce": result = grouped.reduce(ops::reduce, ops::subtract, materialized(c, ops.serde())); valueOut = ops.serde(); break;
        default:
          result = grouped.aggregate(ops::init, (k, v, agg) -> ops.reduce(agg, v), (k, v, agg) -> ops.subtract(agg, v), materialized(c, ops.serde()));
          valueOut = ops.serde();
      }
      writeTo(result, Serdes.String(), valueOut);
    } else {
      KStream<String, V> stream = builder.stream("in", Consumed.with(Serdes.String(), ops.serde()));
      if (spec.path("rekey").asBoolean(false)) stream = stream.selectKey((k, v) -> k == null ? null : k.toLowerCase());
      KTable<String, V> table = tableOf(builder, c, "tbl", ops);
      // The same joiner as cases.ts' joinValues: a null prints as "null".
      ValueJoiner<V, V, String> joiner = (left, right) -> left + "/" + right;
      // joinerWithKey: cases.ts' joinValuesWithKey, through the ValueJoinerWithKey overloads.
      ValueJoinerWithKey<String, V, V, String> keyJoiner = (k, left, right) -> k + ":" + left + "/" + right;
      boolean withKey = c.path("joinerWithKey").asBoolean(false);
      Joined<String, V, V> joined = Joined.with(Serdes.String(), ops.serde(), ops.serde());
      if (spec.path("versioned").hasNonNull("graceMs")) joined = joined.withGracePeriod(Duration.ofMillis(spec.get("versioned").get("graceMs").asLong()));
      KStream<String, String> out = "left".equals(spec.get("join").asText())
          ? (withKey ? stream.leftJoin(table, keyJoiner, joined) : stream.leftJoin(table, joiner, joined))
          : (withKey ? stream.join(table, keyJoiner, joined) : stream.join(table, joiner, joined));
      out.to("out", Produced.with(Serdes.String(), Serdes.String()));
      valueOut = Serdes.String();
    }
    return drive(builder.build(), c, stateDir, ops, Serdes.String().deserializer(), valueOut.deserializer());
  }

  /** A foreign-key join's TableJoined (TableSpec.tableJoined in cases.ts); partitioners "zero" give partition 0. */
  @SuppressWarnings("deprecation")
  static TableJoined<String, String> tableJoinedOf(JsonNode options) {
    if (options.isMissingNode() || options.isNull()) return null;
    String name = options.hasNonNull("name") ? options.get("name").asText() : null;
    if (!options.hasNonNull("partitioners")) return TableJoined.as(name);
    StreamPartitioner<String, Void> partitioner = "zero".equals(options.get("partitioners").asText()) ? (topic, key, value, n) -> 0 : null;
    TableJoined<String, String> tableJoined = TableJoined.with(partitioner, partitioner);
    return name == null ? tableJoined : tableJoined.withName(name);
  }

  /**
   * `global-store` cases (GlobalStoreCaseSpec in cases.ts): a global store over "tbl" fed by a processor of its
   * own (null key kept under "none", null value deletes), read by the processor of the stream "in".
   */
  static <V> ArrayNode runGlobalStore(JsonNode c, Ops<V> ops, Path stateDir) {
    JsonNode spec = c.get("globalStore");
    String read = spec.get("read").asText();
    StreamsBuilder builder = new StreamsBuilder();
    Consumed<String, V> consumed = Consumed.with(Serdes.String(), ops.serde());
    KeyValueBytesStoreSupplier supplier = spec.get("inMemory").asBoolean()
        ? Stores.inMemoryKeyValueStore("global") : Stores.persistentKeyValueStore("global");
    StoreBuilder<KeyValueStore<String, V>> plain = Stores.keyValueStoreBuilder(supplier, Serdes.String(), ops.serde()).withLoggingDisabled();
    String caching = c.get("caching").asText();
    StoreBuilder<KeyValueStore<String, V>> store = "store-on".equals(caching)
        ? plain.withCachingEnabled() : "store-off".equals(caching) ? plain.withCachingDisabled() : plain;
    Runnable addGlobalStore = () -> builder.addGlobalStore(store, "tbl", spec.get("named").asBoolean() ? consumed.withName("global-updater") : consumed,
        () -> new Processor<String, V, Void, Void>() {
          private ProcessorContext<Void, Void> context;
          private KeyValueStore<String, V> values;
          public void init(ProcessorContext<Void, Void> context) {
            this.context = context;
            values = context.getStateStore("global");
          }
          public void process(Record<String, V> record) {
            String key = record.key() == null ? "none" : record.key();
            if (record.value() == null) {
              values.delete(key);
              return;
            }
            long offset = context.recordMetadata().map(RecordMetadata::offset).orElse(-1L);
            values.put(key, ops.globalStored(values.get(key), record.value(), record.timestamp(), offset));
          }
        });
    // Declared first only by the witness of known-differences.ts' global-store-numbered-after-stream-subtopologies.
    boolean globalFirst = spec.path("globalFirst").asBoolean(false);
    if (globalFirst) addGlobalStore.run();
    builder.stream("in", consumed).process(() -> new Processor<String, V, String, String>() {
      private ProcessorContext<String, String> context;
      private KeyValueStore<String, V> values;
      public void init(ProcessorContext<String, String> context) {
        this.context = context;
        values = context.getStateStore("global");
      }
      public void process(Record<String, V> record) {
        // The same as cases.ts' globalStoreView, globalStoreKey and globalStoreRemapped.
        List<String> reads = new ArrayList<>();
        if ("scan".equals(read)) {
          try (KeyValueIterator<String, V> all = values.all()) {
            while (all.hasNext()) {
              KeyValue<String, V> entry = all.next();
              reads.add(entry.key + "=" + entry.value);
            }
          }
        } else {
          reads.add(String.valueOf(values.get(record.key() == null ? "none" : record.key())));
          String remapped = "get".equals(read)
              ? (record.key() == null ? null : record.key().toLowerCase())
              : (record.value() == null ? null : ops.foreignKey(record.value()));
          reads.add(remapped == null ? "-" : String.valueOf(values.get(remapped)));
        }
        context.forward(record.withValue(record.value() + ">" + String.join("/", reads)));
      }
    }).to("out", Produced.with(Serdes.String(), Serdes.String()));
    if (!globalFirst) addGlobalStore.run();
    return drive(builder.build(), c, stateDir, ops, Serdes.String().deserializer(), Serdes.String().deserializer());
  }

  /** The key selectors of global-table join cases, as cases.ts' globalKey. */
  static String globalKey(String selector, String key) {
    boolean nullToA = "nullToA".equals(selector);
    if (key == null) return nullToA ? "a" : null;
    if (key.equals(nullToA ? "c" : "C")) return null;
    return key.toLowerCase();
  }

  /** `cogroup` cases (cases.ts): "in" (maybe re-keyed) and "tbl" cogrouped, aggregate and merge as aggregators. */
  static <V> ArrayNode runCogroup(JsonNode c, Ops<V> ops, Path stateDir) {
    StreamsBuilder builder = new StreamsBuilder();
    Grouped<String, V> grouped = Grouped.with(Serdes.String(), ops.serde());
    KStream<String, V> left = builder.stream("in", Consumed.with(Serdes.String(), ops.serde()));
    if (c.path("cogroupRekey").asBoolean(false)) left = left.selectKey((k, v) -> k == null ? null : k.toLowerCase());
    KGroupedStream<String, V> right = builder.stream("tbl", Consumed.with(Serdes.String(), ops.serde())).groupByKey(grouped);
    var cogrouped = left.groupByKey(grouped)
        .cogroup((Aggregator<String, V, V>) (k, v, agg) -> ops.aggregate(agg, v))
        .cogroup(right, (k, v, agg) -> ops.merge(agg, v));
    JsonNode window = c.get("window");
    String type = window.get("type").asText();
    if ("none".equals(type)) {
      writeTo(cogrouped.aggregate(ops::init, materialized(c, ops.serde())), Serdes.String(), ops.serde());
      return drive(builder.build(), c, stateDir, ops, Serdes.String().deserializer(), ops.serde().deserializer());
    }
    // Windowed cogroups (`cogroup-windowed-*`): the windowed key written as "key@start-end".
    boolean noGrace = window.path("noGrace").asBoolean(false);
    Duration grace = Duration.ofMillis(window.path("grace").asLong());
    KTable<Windowed<String>, V> windowed;
    if ("session".equals(type)) {
      Duration gap = Duration.ofMillis(window.get("gap").asLong());
      SessionWindows windows = noGrace ? SessionWindows.ofInactivityGapWithNoGrace(gap) : SessionWindows.ofInactivityGapAndGrace(gap, grace);
      windowed = cogrouped.windowedBy(windows).aggregate(ops::init, (k, l, r) -> ops.merge(l, r), materialized(c, ops.serde()));
    } else if ("sliding".equals(type)) {
      Duration difference = Duration.ofMillis(window.get("size").asLong());
      SlidingWindows windows = noGrace ? SlidingWindows.ofTimeDifferenceWithNoGrace(difference) : SlidingWindows.ofTimeDifferenceAndGrace(difference, grace);
      windowed = cogrouped.windowedBy(windows).aggregate(ops::init, materialized(c, ops.serde()));
    } else {
      long size = window.get("size").asLong();
      long advance = window.get("advance").asLong();
      TimeWindows windows = noGrace ? TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(size)) : TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), grace);
      if (advance != size) windows = windows.advanceBy(Duration.ofMillis(advance));
      windowed = cogrouped.windowedBy(windows).aggregate(ops::init, materialized(c, ops.serde()));
    }
    windowed.toStream((k, v) -> k.key() + "@" + k.window().start() + "-" + k.window().end())
        .to("out", Produced.with(Serdes.String(), ops.serde()));
    return drive(builder.build(), c, stateDir, ops, Serdes.String().deserializer(), ops.serde().deserializer());
  }

  /** `stream-stream-join` cases (StreamJoinCaseSpec in cases.ts): stream "in" joined with stream "tbl". */
  static <V> ArrayNode runStreamJoin(JsonNode c, Ops<V> ops, Path stateDir) {
    JsonNode spec = c.get("streamJoin");
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, V> left = builder.stream("in", Consumed.with(Serdes.String(), ops.serde()));
    if (spec.path("rekey").asBoolean(false)) left = left.selectKey((k, v) -> k == null ? null : k.toLowerCase());
    KStream<String, V> right = builder.stream("tbl", Consumed.with(Serdes.String(), ops.serde()));
    JoinWindows windows = JoinWindows.ofTimeDifferenceAndGrace(
        Duration.ofMillis(spec.get("timeDifference").asLong()), Duration.ofMillis(spec.get("grace").asLong()));
    StreamJoined<String, V, V> joined = StreamJoined.with(Serdes.String(), ops.serde(), ops.serde());
    ValueJoiner<V, V, String> joiner = (l, r) -> l + "/" + r;
    ValueJoinerWithKey<String, V, V, String> keyJoiner = (k, l, r) -> k + ":" + l + "/" + r;
    boolean withKey = c.path("joinerWithKey").asBoolean(false);
    KStream<String, String> out;
    switch (spec.get("kind").asText()) {
      case "inner": out = withKey ? left.join(right, keyJoiner, windows, joined) : left.join(right, joiner, windows, joined); break;
      case "left": out = withKey ? left.leftJoin(right, keyJoiner, windows, joined) : left.leftJoin(right, joiner, windows, joined); break;
      default: out = withKey ? left.outerJoin(right, keyJoiner, windows, joined) : left.outerJoin(right, joiner, windows, joined);
    }
    out.to("out", Produced.with(Serdes.String(), Serdes.String()));
    return drive(builder.build(), c, stateDir, ops, Serdes.String().deserializer(), Serdes.String().deserializer());
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static void writeTo(KTable table, Serde keySerde, Serde valueSerde) {
    table.toStream().to("out", Produced.with(keySerde, valueSerde));
  }

  static <V> ArrayNode drive(Topology topology, JsonNode c, Path stateDir, Ops<V> ops,
                             Deserializer<?> keyDeserializer, Deserializer<?> valueDeserializer) {
    ArrayNode records = JSON.createArrayNode();
    DESCRIPTION.set(topology.describe().toString());
    try (TopologyTestDriver driver = new TopologyTestDriver(topology, properties(c, stateDir))) {
      Map<String, TestInputTopic<String, V>> inputs = new HashMap<>();
      TestOutputTopic<?, ?> output = driver.createOutputTopic("out", keyDeserializer, valueDeserializer);
      for (JsonNode r : c.get("records")) {
        JsonNode key = r.get("key");
        String topic = r.hasNonNull("topic") ? r.get("topic").asText() : "in";
        TestInputTopic<String, V> input = inputs.computeIfAbsent(
            topic, t -> driver.createInputTopic(t, Serdes.String().serializer(), ops.serde().serializer()));
        if (c.path("streamJoin").path("tick").asBoolean(false)) driver.advanceWallClockTime(Duration.ofMillis(1000));
        input.pipeInput(key.isNull() ? null : key.asText(), ops.fromJson(r.get("value")), r.get("ts").asLong());
      }
      for (TestRecord<?, ?> record : output.readRecordsToList()) {
        ObjectNode node = records.addObject();
        Object key = record.key();
        if (key == null) node.putNull("key");
        else if (key instanceof Windowed) {
          Windowed<?> w = (Windowed<?>) key;
          node.put("key", w.key() + "@" + w.window().start() + "-" + w.window().end());
        } else node.put("key", key.toString());
        Object value = record.value();
        if (value == null) node.putNull("value");
        else if (value instanceof Long) node.put("value", ((Long) value).longValue());
        else node.put("value", value.toString());
        node.put("ts", record.timestamp());
      }
    }
    return records;
  }

  /**
   * `versioned-store` cases (VersionedStoreSpec in cases.ts): each record of "in" is one operation on a
   * versioned store at the record's key and timestamp; the answer goes to "out", printed as cases.ts'
   * versionedRecordText prints it (test/differential/versioned-store-ops.ts is our side).
   */
  static ArrayNode runVersionedStore(JsonNode c, Path stateDir) {
    JsonNode spec = c.get("versionedStore");
    Duration retention = Duration.ofMillis(spec.get("historyRetentionMs").asLong());
    VersionedBytesStoreSupplier supplier = spec.hasNonNull("segmentIntervalMs")
        ? Stores.persistentVersionedKeyValueStore("store", retention, Duration.ofMillis(spec.get("segmentIntervalMs").asLong()))
        : Stores.persistentVersionedKeyValueStore("store", retention);
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.versionedKeyValueStoreBuilder(supplier, Serdes.String(), Serdes.String()));
    builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
        .process(() -> new Processor<String, String, String, String>() {
          private ProcessorContext<String, String> context;
          private VersionedKeyValueStore<String, String> store;

          @Override
          public void init(ProcessorContext<String, String> ctx) {
            context = ctx;
            store = ctx.getStateStore("store");
          }

          @Override
          public void process(Record<String, String> record) {
            context.forward(record.withValue(versionedAnswer(store, record.key(), record.value(), record.timestamp())));
          }
        }, "store")
        .to("out", Produced.with(Serdes.String(), Serdes.String()));
    return drive(builder.build(), c, stateDir, STRINGS, Serdes.String().deserializer(), Serdes.String().deserializer());
  }

  static String versionedAnswer(VersionedKeyValueStore<String, String> store, String key, String op, long timestamp) {
    if (op.startsWith("put:") || op.equals("put-null")) {
      long validTo = store.put(key, op.equals("put-null") ? null : op.substring(4), timestamp);
      if (validTo == VersionedKeyValueStore.PUT_RETURN_CODE_VALID_TO_UNDEFINED) return "put:undefined";
      if (validTo == VersionedKeyValueStore.PUT_RETURN_CODE_NOT_PUT) return "put:not-put";
      return "put:" + validTo;
    }
    if (op.equals("delete")) return versionedRecordText(store.delete(key, timestamp));
    if (op.equals("get")) return versionedRecordText(store.get(key));
    if (op.startsWith("get:")) return versionedRecordText(store.get(key, Long.parseLong(op.substring(4))));
    throw new IllegalArgumentException("versioned-store case: unknown operation '" + op + "'");
  }

  static String versionedRecordText(VersionedRecord<String> record) {
    if (record == null) return "null";
    return record.validTo().isPresent()
        ? record.value() + "@" + record.timestamp() + "-" + record.validTo().get()
        : record.value() + "@" + record.timestamp();
  }

  /** `stream("in").to("out")` with no serdes given: what a user gets from default.key/value.serde = bytes. */
  static ArrayNode runPassthrough(JsonNode c, Path stateDir) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream("in").to("out");
    Properties props = properties(c, stateDir);
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class.getName());
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class.getName());
    ArrayNode records = JSON.createArrayNode();
    Topology topology = builder.build();
    DESCRIPTION.set(topology.describe().toString());
    try (TopologyTestDriver driver = new TopologyTestDriver(topology, props)) {
      TestInputTopic<String, String> input = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
      TestOutputTopic<String, String> output = driver.createOutputTopic("out", Serdes.String().deserializer(), Serdes.String().deserializer());
      for (JsonNode r : c.get("records")) {
        JsonNode key = r.get("key");
        JsonNode value = r.get("value");
        input.pipeInput(key.isNull() ? null : key.asText(), value.isNull() ? null : value.asText(), r.get("ts").asLong());
      }
      for (TestRecord<String, String> record : output.readRecordsToList()) {
        ObjectNode node = records.addObject();
        node.put("key", record.key());
        node.put("value", record.value());
        node.put("ts", record.timestamp());
      }
    }
    return records;
  }

  static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) return;
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
    }
  }
}
