package io.vectorsync.embedding;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.config.EmbeddingProperties;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VectorsyncProperties;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The one {@link EmbeddingProvider} bean of {@code vectorsync.embedding.provider} (none with {@code none}),
 * its dimension checked against {@code vectorsync.embedding-dimension} before the service starts.
 */
@Configuration(proxyBeanMethods = false)
@ServerOnly
public class EmbeddingConfiguration {

    private static final Logger log = LoggerFactory.getLogger(EmbeddingConfiguration.class);
    static final String PROVIDER = "vectorsync.embedding.provider";

    @Bean
    @ConditionalOnProperty(name = PROVIDER, havingValue = "local", matchIfMissing = true)
    EmbeddingProvider localEmbeddingProvider(EmbeddingProperties p, VectorsyncProperties v) {
        // The model's own threads would fight the service's for two cores; the caller's thread runs it.
        return checked(new LocalEmbeddingProvider(p.batchSize(), Runnable::run), v.embeddingDimension());
    }

    @Bean
    @ConditionalOnProperty(name = PROVIDER, havingValue = "openai")
    EmbeddingProvider openAiEmbeddingProvider(EmbeddingProperties p, VectorsyncProperties v, ObjectMapper json) {
        EmbeddingProperties.OpenAi o = p.openai();
        int expected = o.dimensions() != null ? o.dimensions() : v.embeddingDimension();
        EmbeddingProvider provider = checked(new OpenAiEmbeddingProvider(o, expected, json, Clock.systemUTC()),
                v.embeddingDimension());
        if (o.checkAtStartup()) {
            probe(provider);
        }
        return provider;
    }

    /** Refuses a provider whose vectors would not fit the backends' (created with embedding-dimension). */
    static EmbeddingProvider checked(EmbeddingProvider provider, int embeddingDimension) {
        if (provider.dimension() != embeddingDimension) {
            throw new IllegalStateException("VSYNC-EMBED-DIMENSION: the embedding provider's model "
                    + provider.modelId() + " has " + provider.dimension() + " dimensions, but vectorsync.embedding-dimension is "
                    + embeddingDimension + "; set one to the other, or vectorsync.embedding.provider=none");
        }
        log.info("Embedding provider {} ({} dimensions)", provider.modelId(), provider.dimension());
        return provider;
    }

    /** One real call: the answer's length is checked by the provider itself. */
    static void probe(EmbeddingProvider provider) {
        try {
            provider.embed(List.of("vectorsync dimension probe"));
        } catch (EmbeddingException e) {
            throw new IllegalStateException(e.code() + ": the start-up probe of the embedding provider failed: "
                    + e.getMessage() + " (vectorsync.embedding.openai.check-at-startup=false skips it)", e);
        }
    }
}
