package bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.StateRestoreListener;

/**
 * The sessionization topology of examples/sessionize, written with Kafka Streams' Java DSL, for the
 * side-by-side benchmark. Configured by environment variables (see bench/lib/kafka-streams-peer.ts);
 * prints one JSON line per event on stdout (state changes, restorations).
 */
public final class SessionizeBench {
  static final long GAP_MS = 30 * 60_000L;

  static final Schema PAGE_VIEW = new Schema.Parser().parse(
      "{\"type\":\"record\",\"name\":\"PageView\",\"namespace\":\"example.sessionize\",\"fields\":["
          + "{\"name\":\"userId\",\"type\":\"string\"},{\"name\":\"page\",\"type\":\"string\"},"
          + "{\"name\":\"status\",\"type\":\"int\"},{\"name\":\"bytes\",\"type\":\"long\"},"
          + "{\"name\":\"timestamp\",\"type\":\"long\"}]}");

  /** A page view: the input is Avro single-object encoded (2-byte marker, 8-byte fingerprint, body). */
  record View(String userId, String page, int status, long bytes, long timestamp) {}

  static final class ViewSerde implements Serde<View> {
    // Shared by the stream threads: readers, writers and coders are per thread (Avro's are not thread-safe).
    private final ThreadLocal<GenericDatumReader<GenericRecord>> reader = ThreadLocal.withInitial(() -> new GenericDatumReader<>(PAGE_VIEW));
    private final ThreadLocal<GenericDatumWriter<GenericRecord>> writer = ThreadLocal.withInitial(() -> new GenericDatumWriter<>(PAGE_VIEW));
    /** Single-object encoding header: 0xC3 0x01 and the schema's CRC-64-AVRO fingerprint, little-endian. */
    private static final byte[] HEADER = ByteBuffer.allocate(10)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .put((byte) 0xC3)
        .put((byte) 0x01)
        .putLong(org.apache.avro.SchemaNormalization.parsingFingerprint64(PAGE_VIEW))
        .array();

    @Override
    public org.apache.kafka.common.serialization.Serializer<View> serializer() {
      return (topic, v) -> {
        try {
          GenericRecord r = new GenericData.Record(PAGE_VIEW);
          r.put("userId", v.userId());
          r.put("page", v.page());
          r.put("status", v.status());
          r.put("bytes", v.bytes());
          r.put("timestamp", v.timestamp());
          ByteArrayOutputStream out = new ByteArrayOutputStream(64);
          out.write(HEADER);
          BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
          writer.get().write(r, encoder);
          encoder.flush();
          return out.toByteArray();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      };
    }

    @Override
    public org.apache.kafka.common.serialization.Deserializer<View> deserializer() {
      return (topic, bytes) -> {
        if (bytes == null) return null;
        if (bytes.length < 10 || bytes[0] != (byte) 0xC3 || bytes[1] != 0x01) throw new IllegalArgumentException("not single-object encoded");
        try {
          BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, 10, bytes.length - 10, null);
          GenericRecord r = reader.get().read(null, decoder);
          return new View(r.get("userId").toString(), r.get("page").toString(), (Integer) r.get("status"), (Long) r.get("bytes"), (Long) r.get("timestamp"));
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      };
    }
  }

  /** Page views as JSON text (the JSON variant of the workload, FORMAT=json), through Jackson. */
  static final class JsonViewSerde implements Serde<View> {
    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();

    @Override
    public org.apache.kafka.common.serialization.Serializer<View> serializer() {
      return (topic, v) -> {
        var node = MAPPER.createObjectNode();
        node.put("userId", v.userId()).put("page", v.page()).put("status", v.status()).put("bytes", v.bytes()).put("timestamp", v.timestamp());
        try {
          return MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      };
    }

    @Override
    public org.apache.kafka.common.serialization.Deserializer<View> deserializer() {
      return (topic, bytes) -> {
        if (bytes == null) return null;
        try {
          var n = MAPPER.readTree(bytes);
          return new View(n.get("userId").asText(), n.get("page").asText(), n.get("status").asInt(), n.get("bytes").asLong(), n.get("timestamp").asLong());
        } catch (IOException | NullPointerException e) {
          throw new IllegalArgumentException("not a JSON page view", e);
        }
      };
    }
  }

  /** The session aggregate: count, bytes, distinct pages, first and last seen. Text: count|bytes|first|last|p1,p2 */
  static final class Stats {
    long count;
    long bytes;
    long firstSeen = Long.MAX_VALUE;
    long lastSeen;
    TreeSet<String> pages = new TreeSet<>();
  }

  static final class StatsSerde implements Serde<Stats> {
    @Override
    public org.apache.kafka.common.serialization.Serializer<Stats> serializer() {
      return (topic, s) -> {
        if (s == null) return null;
        return (s.count + "|" + s.bytes + "|" + s.firstSeen + "|" + s.lastSeen + "|" + String.join(",", s.pages)).getBytes(StandardCharsets.UTF_8);
      };
    }

    @Override
    public org.apache.kafka.common.serialization.Deserializer<Stats> deserializer() {
      return (topic, bytes) -> {
        if (bytes == null) return null;
        String[] parts = new String(bytes, StandardCharsets.UTF_8).split("\\|", -1);
        Stats s = new Stats();
        s.count = Long.parseLong(parts[0]);
        s.bytes = Long.parseLong(parts[1]);
        s.firstSeen = Long.parseLong(parts[2]);
        s.lastSeen = Long.parseLong(parts[3]);
        if (!parts[4].isEmpty()) for (String p : parts[4].split(",")) s.pages.add(p);
        return s;
      };
    }
  }

  static String env(String name, String fallback) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) {
      if (fallback == null) throw new IllegalArgumentException(name + " is required");
      return fallback;
    }
    return v;
  }

  static synchronized void emit(String json) {
    System.out.println(json);
    System.out.flush();
  }

  public static void main(String[] args) throws Exception {
    String input = env("INPUT_TOPIC", null);
    String output = env("OUTPUT_TOPIC", null);
    long graceMs = Long.parseLong(env("GRACE_MS", String.valueOf(30L * 24 * 3600_000)));

    StreamsBuilder builder = new StreamsBuilder();
    boolean json = env("FORMAT", "avro").equals("json");
    Serde<View> views = json ? new JsonViewSerde() : new ViewSerde();
    StatsSerde stats = new StatsSerde();
    builder.stream(input, Consumed.with(Serdes.String(), views))
        .filter((k, v) -> v.status() < 500)
        .selectKey((k, v) -> v.userId())
        .groupByKey(Grouped.with(Serdes.String(), views))
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(GAP_MS), Duration.ofMillis(graceMs)))
        .aggregate(
            Stats::new,
            (user, v, s) -> {
              Stats n = new Stats();
              n.count = s.count + 1;
              n.bytes = s.bytes + v.bytes();
              n.pages = new TreeSet<>(s.pages);
              n.pages.add(v.page());
              n.firstSeen = Math.min(s.firstSeen, v.timestamp());
              n.lastSeen = Math.max(s.lastSeen, v.timestamp());
              return n;
            },
            (user, a, b) -> {
              Stats n = new Stats();
              n.count = a.count + b.count;
              n.bytes = a.bytes + b.bytes;
              n.pages = new TreeSet<>(a.pages);
              n.pages.addAll(b.pages);
              n.firstSeen = Math.min(a.firstSeen, b.firstSeen);
              n.lastSeen = Math.max(a.lastSeen, b.lastSeen);
              return n;
            },
            Materialized.<String, Stats, org.apache.kafka.streams.state.SessionStore<org.apache.kafka.common.utils.Bytes, byte[]>>as("session-stats")
                .withKeySerde(Serdes.String())
                .withValueSerde(stats))
        .toStream()
        .to(output, Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), stats));

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, env("APP_ID", null));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, env("KAFKA_BROKERS", null));
    props.put(StreamsConfig.STATE_DIR_CONFIG, env("STATE_DIR", null));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, env("GUARANTEE", "at_least_once"));
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, env("COMMIT_INTERVAL_MS", "1000"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, env("THREADS", String.valueOf(Runtime.getRuntime().availableProcessors())));
    // The failover suite: standby replicas and the same session timeout as our workers.
    props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, Integer.parseInt(env("NUM_STANDBY_REPLICAS", "0")));
    if (System.getenv("SESSION_TIMEOUT_MS") != null) {
      props.put(StreamsConfig.consumerPrefix("session.timeout.ms"), Integer.parseInt(env("SESSION_TIMEOUT_MS", null)));
      props.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 1000);
    }
    // Kafka Streams' default (10 MiB) unless the benchmark sets the same budget for every contender.
    if (System.getenv("CACHE_MAX_BYTES") != null) props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.parseLong(env("CACHE_MAX_BYTES", null)));
    props.put(StreamsConfig.DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueExceptionHandler.class);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put("consumer.auto.offset.reset", "earliest");

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    AtomicLong restored = new AtomicLong();
    long[] restoreBegan = {0};
    streams.setGlobalStateRestoreListener(new StateRestoreListener() {
      @Override
      public void onRestoreStart(TopicPartition tp, String store, long start, long end) {
        synchronized (restoreBegan) {
          if (restoreBegan[0] == 0) restoreBegan[0] = System.currentTimeMillis();
        }
      }

      @Override
      public void onBatchRestored(TopicPartition tp, String store, long batchEnd, long n) {}

      @Override
      public void onRestoreEnd(TopicPartition tp, String store, long total) {
        long all = restored.addAndGet(total);
        emit("{\"event\":\"restore-end\",\"restored\":" + all + ",\"count\":" + total + ",\"ms\":" + (System.currentTimeMillis() - restoreBegan[0]) + "}");
      }
    });
    streams.setStateListener((next, prev) -> {
      emit("{\"event\":\"state\",\"state\":\"" + next + "\"}");
      if (next == KafkaStreams.State.RUNNING) emit("{\"event\":\"started\"}");
    });
    // The tasks this instance runs and keeps warm, every second (the failover suite picks a moved task from them).
    var tasksReporter = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "tasks-reporter");
      t.setDaemon(true);
      return t;
    });
    tasksReporter.scheduleAtFixedRate(() -> {
      try {
        if (streams.state() != KafkaStreams.State.RUNNING) return;
        List<String> active = new ArrayList<>();
        List<String> standby = new ArrayList<>();
        for (var thread : streams.metadataForLocalThreads()) {
          for (var task : thread.activeTasks()) active.add("\"" + task.taskId() + "\"");
          for (var task : thread.standbyTasks()) standby.add("\"" + task.taskId() + "\"");
        }
        emit("{\"event\":\"tasks\",\"state\":\"RUNNING\",\"active\":[" + String.join(",", active) + "],\"standby\":[" + String.join(",", standby) + "]}");
      } catch (RuntimeException e) {
        // not running any more
      }
    }, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // Records Kafka Streams dropped (late, expired, unreadable), for the cross-check with the oracle.
      double dropped = 0;
      for (var e : streams.metrics().entrySet()) {
        if (e.getKey().name().equals("dropped-records-total") && e.getValue().metricValue() instanceof Double d) dropped += d;
      }
      emit("{\"event\":\"dropped\",\"total\":" + (long) dropped + "}");
      streams.close(Duration.ofSeconds(30));
      done.countDown();
    }));
    streams.start();
    done.await();
  }
}
