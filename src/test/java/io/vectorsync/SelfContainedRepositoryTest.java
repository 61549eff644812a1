package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A stranger's clone has nothing beside it: no build file, script, route, deployment file or test may read
 * a folder outside the repository (the team's reference material sits in a sibling folder on its own
 * machines, which is how a test once came to need it).
 */
class SelfContainedRepositoryTest {

    /** The sibling folder's name, written in two parts so that this file does not find itself. */
    static final String SIBLING = "sha" + "red";

    static final List<String> OUTSIDE = List.of("../" + SIBLING, SIBLING + "/contracts", "..\\" + SIBLING);

    static final List<Path> ROOTS = List.of(Path.of("pom.xml"), Path.of("Dockerfile"), Path.of("docker-compose.yml"),
            Path.of(".ci"), Path.of("src"), Path.of("scripts"), Path.of("bench"), Path.of("routes"), Path.of("deploy"),
            Path.of("mvnw"), Path.of(".mvn"));

    @Test
    void noBuildTestOrRunFileReadsAFolderBesideTheRepository() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path root : ROOTS) {
            if (!Files.exists(root)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(Files::isRegularFile).forEach(f -> {
                    String text = read(f);
                    for (String needle : OUTSIDE) {
                        if (text.contains(needle)) {
                            found.add(f + " mentions " + needle);
                        }
                    }
                });
            }
        }

        assertThat(found).as("files that reach outside the repository").isEmpty();
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (MalformedInputException binary) {
            return ""; // a binary file reads nothing by path
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
