package io.vectorsync.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * {@code docs/properties.md} and the additional metadata of the map values are what {@link PropertiesDoc}
 * generates from the configuration records, and every {@code vectorsync.*} key the application's YAML
 * sets is documented. With {@code -Dvectorsync.updateDocs=true} the test writes both files instead.
 */
class PropertiesDocTest {

    @Test
    void thePropertyReferenceIsGeneratedFromTheMetadata() throws IOException {
        String additional = PropertiesDoc.additionalMetadata();
        String markdown = PropertiesDoc.markdown(Files.readString(PropertiesDoc.PROCESSOR), additional);
        if (Boolean.getBoolean("vectorsync.updateDocs")) {
            Files.writeString(PropertiesDoc.ADDITIONAL, additional);
            Files.writeString(PropertiesDoc.DOC, markdown);
        }
        assertThat(read(PropertiesDoc.ADDITIONAL)).as(PropertiesDoc.ADDITIONAL + " is out of date; regenerate it with "
                + PropertiesDoc.REGENERATE).isEqualTo(additional);
        assertThat(read(PropertiesDoc.DOC)).as(PropertiesDoc.DOC + " is out of date; regenerate it with "
                + PropertiesDoc.REGENERATE).isEqualTo(markdown);
    }

    @Test
    void everyKeyTheApplicationsYamlSetsIsDocumented() throws IOException {
        String markdown = read(PropertiesDoc.DOC);
        Set<String> keys = new TreeSet<>();
        for (Path yaml : Set.of(Path.of("src/main/resources/application.yaml"),
                Path.of("src/test/resources/application-test.yaml"))) {
            for (Object document : new Yaml().loadAll(Files.readString(yaml))) {
                flatten("", document, keys);
            }
        }
        Set<String> missing = new LinkedHashSet<>();
        keys.stream().filter(k -> k.startsWith("vectorsync."))
                .map(k -> k.replaceFirst("^vectorsync\\.backends\\.[^.]+\\.", "vectorsync.backends.<name>."))
                .map(k -> k.replaceFirst("^vectorsync\\.jobs\\.types\\.[^.]+\\.", "vectorsync.jobs.types.<name>."))
                .filter(k -> !markdown.contains("| `" + k + "` |"))
                .forEach(missing::add);
        assertThat(missing).as("keys set in the YAML but missing from " + PropertiesDoc.DOC).isEmpty();
    }

    @Test
    void theJavadocOfARecordGivesItsDescriptions() {
        assertThat(PropertiesDoc.javadocParams(BackendBlocks.Qdrant.class)).containsEntry("deleteMode",
                "how a DELETE is written: hard removes the point, soft keeps it marked deleted");
        assertThat(PropertiesDoc.kebab("collectionBy")).isEqualTo("collection-by");
    }

    private static void flatten(String prefix, Object node, Set<String> keys) {
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> flatten(prefix.isEmpty() ? String.valueOf(k) : prefix + "." + k, v, keys));
        } else {
            keys.add(prefix);
        }
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file) : "";
    }
}
