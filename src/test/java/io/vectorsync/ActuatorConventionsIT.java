package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.http.ResponseEntity;

/**
 * What operators' tools expect of the actuator: {@code /actuator/info} naming the build's version (from
 * {@code spring-boot-maven-plugin}'s {@code build-info}), and Camel configured by the {@code camel.main.*}
 * keys Camel 4 reads.
 */
class ActuatorConventionsIT extends AbstractIT {

    @Autowired
    CamelContext camel;

    @Autowired
    ConfigurableEnvironment environment;

    @Test
    void infoNamesTheBuildVersionToTheAdmin() throws Exception {
        ResponseEntity<String> info = adminGet("/actuator/info");
        assertThat(info.getStatusCode().value()).as(info.getBody()).isEqualTo(200);
        JsonNode build = json.readTree(info.getBody()).path("build");

        assertThat(build.path("version").asText()).isEqualTo(pomVersion());
        assertThat(build.path("artifact").asText()).isEqualTo("vectorsync");
        // Like every actuator endpoint but health and prometheus, info is the admin's.
        assertThat(http.getForEntity("/actuator/info", String.class).getStatusCode().value()).isEqualTo(401);
    }

    @Test
    void camelReadsItsCamelMainKeys() {
        // application.yaml's camel.main.* / camel.trace.* keys are bound (camel.springboot.* no longer is).
        assertThat(camel.getName()).isEqualTo("vectorsync");
        assertThat(camel.isMessageHistory()).isFalse();
        assertThat(camel.isUseBreadcrumb()).isFalse();
        assertThat(camel.isBacklogTracing()).isFalse();
        assertThat(camel.isTracing()).isFalse();
        for (PropertySource<?> source : environment.getPropertySources()) {
            if (source instanceof EnumerablePropertySource<?> e) {
                assertThat(e.getPropertyNames()).as(e.getName()).noneMatch(k -> k.startsWith("camel.springboot."));
            }
        }
    }

    private static String pomVersion() throws Exception {
        var pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
        return XPathFactory.newInstance().newXPath().evaluate("/project/version", pom);
    }
}
