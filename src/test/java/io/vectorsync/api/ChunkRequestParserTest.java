package io.vectorsync.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.capture.ChunkInput;
import io.vectorsync.config.VectorsyncProperties;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * The one-pass reads of a PUT body ({@link ChunkRequestParser#chunk(byte[], String, String)}) and of a
 * batch ({@link ChunkRequestParser#batch(byte[])}) must give exactly what the strict tree read gives: the
 * same chunks, float for float, or the same error (status, code and field), whichever rule the body
 * breaks first.
 */
class ChunkRequestParserTest {

    private static final int DIM = 4;
    private static final int MAX_BATCH = 5;
    private final ObjectMapper json = new ObjectMapper();
    private final ChunkRequestParser parser = new ChunkRequestParser(json, properties());

    private static VectorsyncProperties properties() {
        return new Binder(new MapConfigurationPropertySource(Map.of("vectorsync.embedding-dimension", String.valueOf(DIM),
                "vectorsync.api.max-batch-count", String.valueOf(MAX_BATCH))))
                .bindOrCreate("vectorsync", VectorsyncProperties.class);
    }

    /** What a read produced: the chunk's fields, or the error's status, code and field. */
    private String outcome(Reader r) {
        try {
            StringBuilder sb = new StringBuilder("ok");
            for (ChunkInput in : r.read()) {
                sb.append(' ').append(in.chunkId()).append('|').append(in.documentId()).append('|')
                        .append(in.content()).append('|').append(in.metadataJson()).append('|').append(in.privacy())
                        .append('|').append(in.expectedVersion()).append('|').append(in.expectedFromIfMatch())
                        .append('|');
                for (float f : in.embedding()) {
                    sb.append(Integer.toHexString(Float.floatToRawIntBits(f))).append(',');
                }
            }
            return sb.toString();
        } catch (CaptureException e) {
            return "error " + e.status() + " " + e.code() + " " + e.field();
        }
    }

    private interface Reader {
        List<ChunkInput> read();
    }

    private void assertSame(String body, String pathId, String ifMatch) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        String strict = outcome(() -> {
            var n = parser.parse(b);
            return List.of(parser.chunk(n, pathId, "", parser.ifMatch(ifMatch)));
        });
        String onePass = outcome(() -> List.of(parser.chunk(b, pathId, ifMatch)));
        assertThat(onePass).as("body %s, If-Match %s", body, ifMatch).isEqualTo(strict);
    }

    private void assertSameBatch(String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        String strict = outcome(() -> parser.batch(parser.parse(b)));
        assertThat(outcome(() -> parser.batch(b))).as("batch %s", body).isEqualTo(strict);
    }

    @Test
    void usualBodiesReadTheSameFloatForFloat() {
        assertSame("{\"embedding\":[0.1,-2,3e-3,1.0000001],\"content\":\"x\",\"metadata\":{\"a\":[1,{\"b\":null}]}}",
                "c1", null);
        assertSame("{\"documentId\":\"d\",\"embedding\":[0,-0.0,16777217,9007199254740993],\"privacy\":\"REDACTED\","
                + "\"version\":3,\"chunkId\":\"c1\"}", "c1", "\"3\"");
        assertSame("{\"embedding\":[1.17549435E-38,3.4028235e38,1.4e-45,0.30000001192092896],\"metadata\":null,"
                + "\"content\":null}", "c1", "W/\"0\"");
        Random random = new Random(42);
        for (int i = 0; i < 2000; i++) {
            String body = "{\"embedding\":" + randomEmbedding(random) + ",\"content\":\"c" + i + "\"}";
            assertThat(parser.readUsual(body.getBytes(StandardCharsets.UTF_8), json.createObjectNode()))
                    .as("read in one pass: %s", body).isNotNull();
            assertSame(body, "c" + i, null);
        }
    }

    /** DIM numbers as JSON, of every kind a client sends: gaussian, tiny and huge, integers, float bits. */
    private static String randomEmbedding(Random random) {
        StringBuilder sb = new StringBuilder("[");
        for (int d = 0; d < DIM; d++) {
            if (d > 0) {
                sb.append(',');
            }
            double x = switch (random.nextInt(4)) {
                case 0 -> random.nextGaussian();
                case 1 -> random.nextDouble() * Math.pow(10, random.nextInt(60) - 30);
                case 2 -> random.nextInt();
                default -> Float.intBitsToFloat(random.nextInt());
            };
            sb.append(Double.isFinite(x) ? Double.toString(x) : "1");
        }
        return sb.append(']').toString();
    }

    @Test
    void usualBatchesReadTheSameFloatForFloat() {
        Random random = new Random(7);
        for (int i = 0; i < 500; i++) {
            StringBuilder sb = new StringBuilder("{\"chunks\":[");
            int n = 1 + random.nextInt(MAX_BATCH);
            for (int j = 0; j < n; j++) {
                sb.append(j > 0 ? "," : "").append("{\"chunkId\":\"b").append(i).append('-').append(j)
                        .append("\",\"embedding\":").append(randomEmbedding(random));
                if (random.nextBoolean()) {
                    sb.append(",\"metadata\":{\"n\":").append(j).append("},\"privacy\":\"REDACTED\"");
                }
                sb.append(",\"version\":").append(random.nextInt(3)).append('}');
            }
            String body = sb.append("]}").toString();
            assertThat(parser.readUsualBatch(body.getBytes(StandardCharsets.UTF_8), new ArrayList<>(), new ArrayList<>()))
                    .as("read in one pass: %s", body).isTrue();
            assertSameBatch(body);
        }
    }

    @Test
    void everyOtherBatchGetsTheStrictReadsError() {
        String ok = "{\"chunkId\":\"a\",\"embedding\":[1,2,3,4]}";
        String ok2 = "{\"chunkId\":\"b\",\"embedding\":[1,2,3,4]}";
        List<String> bodies = new ArrayList<>(List.of("", "[]", "{}", "{\"chunks\":[]}", "{\"chunks\":{}}",
                "{\"chunks\":null}", "{\"chunks\":[1]}", "{\"chunks\":[" + ok + ",7]}", "{\"chunks\":[" + ok + "]",
                "{\"chunks\":[" + ok + "]}x", "{\"chunks\":[" + ok + "]}{}", "{\"extra\":1,\"chunks\":[" + ok + "]}",
                "{\"chunks\":[" + ok + "],\"extra\":1}", "{\"chunks\":[" + ok + "],\"chunks\":[" + ok2 + "]}",
                "{\"chunks\":[" + ok + "," + ok + "]}", "{\"chunks\":[" + ok + "," + ok2 + "," + ok + "]}",
                "{\"chunks\":[" + String.join(",", java.util.Collections.nCopies(MAX_BATCH + 1, ok)) + "]}",
                "{\"chunks\":[" + ok2 + ",{\"chunkId\":\"c\",\"embedding\":[1,2,3]}]}",
                "{\"chunks\":[{\"embedding\":[1,2,3,4]}]}", "{\"chunks\":[{\"chunkId\":7,\"embedding\":[1,2,3,4]}]}",
                "{\"chunks\":[{\"chunkId\":\"link:x\",\"embedding\":[1,2,3,4]}]}",
                "{\"chunks\":[{\"chunkId\":\"a\",\"embedding\":[1,2,3,4],\"extra\":1}]}",
                "{\"chunks\":[" + ok2 + ",{\"chunkId\":\"a\",\"embedding\":[1,2,3,NaN]}]}",
                "{\"chunks\":[{\"chunkId\":\"a\",\"chunkId\":\"b\",\"embedding\":[1,2,3,4]}]}",
                "{\"chunks\":[{\"chunkId\":\"a\",\"embedding\":[1,2,3,4],\"version\":-1}]}",
                "{\"chunks\":[" + ok2 + ",{\"chunkId\":\"a\",\"embedding\":[1,2,3,4],\"content\":5}]}"));
        for (String body : bodies) {
            assertSameBatch(body);
        }
    }

    @Test
    void everyOtherBodyGetsTheStrictReadsError() {
        List<String> bodies = new ArrayList<>(List.of(
                "", " ", "[]", "null", "\"x\"", "{", "{}", "{}{}", "{} x", "{\"embedding\":[1,2,3,4]} {}",
                "{\"embedding\":[1,2,3]}", "{\"embedding\":[1,2,3,4,5]}", "{\"embedding\":[]}",
                "{\"embedding\":[1,2,3,\"4\"]}", "{\"embedding\":[1,2,\"3\",4,5]}", "{\"embedding\":[1,2,3,null]}",
                "{\"embedding\":[1,2,3,[4]]}", "{\"embedding\":[1,2,3,1e39]}", "{\"embedding\":[1,2,3,-1e400]}",
                "{\"embedding\":[1,2,3,NaN]}", "{\"embedding\":[1,2,3,123456789012345678901234567890]}",
                "{\"embedding\":{\"0\":1}}", "{\"embedding\":\"1,2,3,4\"}", "{\"embedding\":null}",
                "{\"content\":\"x\"}", "{\"embedding\":[1,2,3,4],\"embedding\":[1,2,3,4]}",
                "{\"embedding\":[1,2,3,4],\"content\":\"a\",\"content\":\"b\"}",
                "{\"embedding\":[1,2,3,4],\"metadata\":{\"a\":1,\"a\":2}}",
                "{\"embedding\":[1,2,3,4],\"metadata\":[1]}", "{\"embedding\":[1,2,3,4],\"metadata\":\"{}\"}",
                "{\"embedding\":[1,2,3,4],\"metadata\":{\"a\":\"\\u0000\"}}",
                "{\"embedding\":[1,2,3,4],\"content\":\"a\\u0000b\"}", "{\"embedding\":[1,2,3,4],\"content\":7}",
                "{\"embedding\":[1,2,3,4],\"documentId\":[]}", "{\"embedding\":[1,2,3,4],\"privacy\":\"SECRET\"}",
                "{\"embedding\":[1,2,3,4],\"privacy\":1}", "{\"embedding\":[1,2,3,4],\"version\":-1}",
                "{\"embedding\":[1,2,3,4],\"version\":1.5}", "{\"embedding\":[1,2,3,4],\"version\":\"1\"}",
                "{\"embedding\":[1,2,3,4],\"version\":2}", "{\"embedding\":[1,2,3,4],\"chunkId\":\"other\"}",
                "{\"embedding\":[1,2,3,4],\"chunkId\":7}", "{\"embedding\":[1,2,3,4],\"extra\":1}",
                "{\"extra\":1,\"embedding\":[1,2,\"x\"]}", "{\"content\":7,\"embedding\":[1,2]}",
                "{\"embedding\":[1,2,3,4],\"content\":\"x\"", "{\"embedding\":[1,2,3,4,]}",
                "{\"embedding\":[1,2,3,4]}garbage", "{'embedding':[1,2,3,4]}"));
        bodies.add("{\"embedding\":[1,2,3,4],\"metadata\":" + "[".repeat(1200) + "]".repeat(1200) + "}");
        for (String body : bodies) {
            for (String ifMatch : new String[] {null, "\"2\"", "bogus"}) {
                assertSame(body, "c1", ifMatch);
                assertSame(body, "", ifMatch);
                assertSame(body, "link:x", ifMatch);
            }
        }
    }
}
