package io.vectorsync.backend.qdrant;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QdrantVersionTest {

    @ParameterizedTest(name = "{0} -> accepted {1}")
    @CsvSource({
        "1.16.0, true", "1.16.1, true", "1.19.0, true", "v1.17.2, true", "2.0.0, true", "1.16, true",
        "1.16.0-dev, true", "1.15.5, false", "1.9.9, false", "0.99.0, false", "'', false", "latest, false",
        "1.16.x, false"
    })
    void serversFromTheMinimumOnAreAcceptedAndAnythingElseIsRefusedWithTheCode(String version, boolean accepted) {
        String problem = QdrantVersion.problem("qdrant", "http://127.0.0.1:6333", version);

        if (accepted) {
            assertThat(problem).isNull();
        } else {
            assertThat(problem).startsWith("VSYNC-BACKEND-VERSION: backend 'qdrant': Qdrant at http://127.0.0.1:6333")
                    .contains("1.16.0 or newer");
        }
    }
}
