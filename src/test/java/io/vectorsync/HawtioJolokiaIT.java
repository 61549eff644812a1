package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/**
 * Hawtio and Jolokia are served, only with the admin credentials; a relay route suspended or resumed over
 * JMX (what Hawtio's route view does) pauses or resumes the backend in the database, a pause made in the
 * database shows as a suspended route, and the MBeans that could show message bodies are denied.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.relay.pause-sync-interval=200ms"})
class HawtioJolokiaIT extends AbstractIT {

    @Autowired
    CamelContext camel;

    private ResponseEntity<String> jolokia(Object request, HttpHeaders headers) {
        headers.setContentType(MediaType.APPLICATION_JSON);
        return http.exchange("/actuator/jolokia", HttpMethod.POST, new HttpEntity<>(write(request), headers),
                String.class);
    }

    private JsonNode jolokiaOk(Object request) throws Exception {
        ResponseEntity<String> r = jolokia(request, adminHeaders());
        assertThat(r.getStatusCode().value()).as(r.getBody()).isEqualTo(200);
        return json.readTree(r.getBody());
    }

    private String routeMBean() throws Exception {
        JsonNode found = jolokiaOk(Map.of("type", "search",
                "mbean", "org.apache.camel:type=routes,name=\"relay-replica\",*"));
        assertThat(found.path("value")).as(found.toString()).hasSize(1);
        return found.path("value").get(0).asText();
    }

    private boolean pausedInDatabase() {
        return Boolean.TRUE.equals(jdbc.queryForObject(
                "SELECT paused FROM relay_cursor WHERE backend = 'replica'", Boolean.class));
    }

    @Test
    void hawtioAndJolokiaRefuseRequestsWithoutTheAdminCredentials() {
        for (String path : new String[] {"/actuator/hawtio/", "/actuator/jolokia", "/actuator/jolokia/list"}) {
            ResponseEntity<String> r = http.getForEntity(path, String.class);
            assertThat(r.getStatusCode().value()).as(path).isEqualTo(401);
            assertThat(r.getBody()).as(path).contains("VSYNC-AUTH-REQUIRED");
        }
        HttpHeaders wrong = new HttpHeaders();
        wrong.setBearerAuth("not-the-token");
        assertThat(http.exchange("/actuator/hawtio/", HttpMethod.GET, new HttpEntity<>(wrong), String.class)
                .getStatusCode().value()).isEqualTo(401);

        assertThat(http.exchange("/actuator/hawtio/", HttpMethod.GET, new HttpEntity<>(adminHeaders()),
                String.class).getBody()).containsIgnoringCase("hawtio");
        assertThat(http.exchange("/actuator/health", HttpMethod.GET, HttpEntity.EMPTY, String.class)
                .getStatusCode().value()).isEqualTo(200);
    }

    @Test
    void anUnauthenticatedJolokiaCallCannotSuspendARoute() throws Exception {
        String mbean = routeMBean();
        ResponseEntity<String> r = jolokia(Map.of("type", "exec", "mbean", mbean, "operation", "suspend()"),
                new HttpHeaders());

        assertThat(r.getStatusCode().value()).isEqualTo(401);
        assertThat(camel.getRouteController().getRouteStatus("relay-replica")).isEqualTo(ServiceStatus.Started);
        assertThat(pausedInDatabase()).isFalse();
    }

    @Test
    void aRouteSuspendedOverJmxPausesTheBackendInTheDatabaseAndResumingItResumes() throws Exception {
        String mbean = routeMBean();

        JsonNode suspended = jolokiaOk(Map.of("type", "exec", "mbean", mbean, "operation", "suspend()"));
        assertThat(suspended.path("status").asInt()).as(suspended.toString()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(this::pausedInDatabase);
        assertThat(adminGet("/admin/v1/status").getBody()).contains("\"paused\":true");

        // Paused: a write is captured but not relayed, and the route stays suspended across reconciliations.
        put("jmx-paused", chunkBody("waits for the resume"));
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() ->
                count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'jmx-paused'") == 0
                        && camel.getRouteController().getRouteStatus("relay-replica") == ServiceStatus.Suspended);

        JsonNode resumed = jolokiaOk(Map.of("type", "exec", "mbean", mbean, "operation", "resume()"));
        assertThat(resumed.path("status").asInt()).as(resumed.toString()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> !pausedInDatabase());
        awaitReplicaInStep(Duration.ofSeconds(10));
    }

    @Test
    void aPauseKeptInTheDatabaseShowsAsASuspendedRouteInJmx() throws Exception {
        String mbean = routeMBean();
        jdbc.update("UPDATE relay_cursor SET paused = true WHERE backend = 'replica'");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Suspended".equals(
                jolokiaOk(Map.of("type", "read", "mbean", mbean, "attribute", "State")).path("value").asText()));

        jdbc.update("UPDATE relay_cursor SET paused = false WHERE backend = 'replica'");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Started".equals(
                jolokiaOk(Map.of("type", "read", "mbean", mbean, "attribute", "State")).path("value").asText()));
        put("db-resumed", chunkBody("relayed after the resume"));
        awaitReplicaInStep(Duration.ofSeconds(10));
    }

    @Test
    void mbeansThatCouldShowMessageBodiesAreDenied() throws Exception {
        // The policy is checked before the MBean is looked up, so these are refused whether or not Camel
        // registered a tracer, a debugger or a browsable endpoint in this run.
        for (String tracer : new String[] {"BacklogTracer", "BacklogDebugger"}) {
            JsonNode read = jolokiaOk(Map.of("type", "exec",
                    "mbean", "org.apache.camel:context=vectorsync,type=tracer,name=" + tracer,
                    "operation", "dumpAllTracedMessagesAsJSon()"));
            assertThat(read.path("status").asInt()).as(read.toString()).isEqualTo(403);
        }
        JsonNode browse = jolokiaOk(Map.of("type", "exec",
                "mbean", "org.apache.camel:context=vectorsync,type=endpoints,name=\"seda://x\"",
                "operation", "browseAllMessagesAsXml(java.lang.Boolean)", "arguments", new Object[] {true}));
        assertThat(browse.path("status").asInt()).as(browse.toString()).isEqualTo(403);
        JsonNode heap = jolokiaOk(Map.of("type", "exec", "mbean", "com.sun.management:type=HotSpotDiagnostic",
                "operation", "dumpHeap", "arguments", new Object[] {"/tmp/vectorsync-heap.hprof", true}));
        assertThat(heap.path("status").asInt()).as(heap.toString()).isEqualTo(403);
        assertThat(new java.io.File("/tmp/vectorsync-heap.hprof")).doesNotExist();
    }

    /**
     * Issue 12, item 10: an operator's Jolokia call cannot send to, request from or create a Camel endpoint
     * (an {@code sql:} endpoint would read chunk contents or delete the ledger; a {@code file:} one writes
     * files), whatever the spelling of the operation: each is refused by the access policy and nothing ran.
     */
    @Test
    void jolokiaCannotSendToOrCreateCamelEndpoints() throws Exception {
        jdbc.execute("CREATE TABLE IF NOT EXISTS jmx_probe (n int)");
        String context = "org.apache.camel:context=vectorsync,type=context,name=\"vectorsync\"";
        java.io.File written = new java.io.File("/tmp/vectorsync-jmx-probe/x.txt");
        Object[][] calls = {
                {"requestBody(java.lang.String,java.lang.Object)", "sql:select content, embedding from chunks", ""},
                {"requestBody", "sql:select content, embedding from chunks", ""},
                {"sendBody(java.lang.String,java.lang.Object)", "sql:INSERT INTO jmx_probe VALUES (1)", ""},
                {"sendBody", "sql:DELETE FROM delivery_ledger", ""},
                {"sendBody", "file:/tmp/vectorsync-jmx-probe?fileName=x.txt", "written over JMX"},
                {"requestBody", "file:/tmp/vectorsync-jmx-probe?fileName=x.txt", "written over JMX"},
                {"sendStringBody", "sql:INSERT INTO jmx_probe VALUES (2)", ""},
                {"requestStringBody", "sql:INSERT INTO jmx_probe VALUES (3)", ""},
                {"sendBodyAndHeaders", "sql:INSERT INTO jmx_probe VALUES (4)", "", Map.of()},
                {"requestBodyAndHeaders", "sql:INSERT INTO jmx_probe VALUES (5)", "", Map.of()},
                {"createEndpoint(java.lang.String)", "sql:INSERT INTO jmx_probe VALUES (6)"},
                {"createEndpoint", "file:/tmp/vectorsync-jmx-probe"},
                {"canSendToEndpoint", "sql:INSERT INTO jmx_probe VALUES (7)"},
                {"removeEndpoints", "scheduler*"},
                {"addOrUpdateRoutesFromXml", "<routes xmlns=\"http://camel.apache.org/schema/spring\"><route>"
                        + "<from uri=\"timer:x?repeatCount=1\"/><to uri=\"sql:INSERT INTO jmx_probe VALUES (8)\"/>"
                        + "</route></routes>"}};
        long ledger = count("SELECT count(*) FROM delivery_ledger");
        for (Object[] c : calls) {
            Object[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            JsonNode r = jolokiaOk(Map.of("type", "exec", "mbean", context, "operation", c[0], "arguments", args));
            assertThat(r.path("status").asInt()).as(c[0] + " " + c[1] + ": " + r).isEqualTo(403);
            assertThat(r.has("value")).as(r.toString()).isFalse();
        }
        assertThat(count("SELECT count(*) FROM jmx_probe")).as("rows written over JMX").isZero();
        assertThat(count("SELECT count(*) FROM delivery_ledger")).isEqualTo(ledger);
        assertThat(written).doesNotExist();
        // Route control stays available (what Hawtio's route view needs): reading the context's state passes.
        JsonNode state = jolokiaOk(Map.of("type", "read", "mbean", context, "attribute", "State"));
        assertThat(state.path("value").asText()).as(state.toString()).isEqualTo("Started");
    }

    /** The components the relay does not use are not on the class path (nothing to abuse if a rule slips). */
    @Test
    void unusedCamelComponentsAreNotOnTheClassPath() {
        assertThat(camel.getComponentNames()).doesNotContain("sql", "http", "https");
        for (String cls : new String[] {"org.apache.camel.component.sql.SqlComponent",
                "org.apache.camel.component.http.HttpComponent"}) {
            assertThat(getClass().getClassLoader().getResource(cls.replace('.', '/') + ".class")).as(cls).isNull();
        }
    }
}
