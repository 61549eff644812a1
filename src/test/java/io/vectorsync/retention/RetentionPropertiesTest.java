package io.vectorsync.retention;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.validation.ValidationAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/** vectorsync.retention.* binds with its defaults and refuses bad values at start-up. */
class RetentionPropertiesTest {

    @Configuration
    @EnableConfigurationProperties(RetentionProperties.class)
    static class Config {}

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Config.class);

    @Test
    void defaults() {
        runner.run(ctx -> {
            RetentionProperties p = ctx.getBean(RetentionProperties.class);
            assertThat(p.enabled()).isTrue();
            assertThat(p.outboxAge()).isEqualTo(Duration.ofDays(7));
            assertThat(p.deadLetterAge()).isEqualTo(Duration.ofDays(30));
            assertThat(p.batchSize()).isEqualTo(1000);
            assertThat(p.interval()).isEqualTo(Duration.ofHours(1));
        });
    }

    @Test
    void goodValuesBind() {
        runner.withPropertyValues("vectorsync.retention.outbox-age=2h", "vectorsync.retention.batch-size=50",
                "vectorsync.retention.interval=10m", "vectorsync.retention.dead-letter-age=90d").run(ctx -> {
                    RetentionProperties p = ctx.getBean(RetentionProperties.class);
                    assertThat(p.outboxAge()).isEqualTo(Duration.ofHours(2));
                    assertThat(p.batchSize()).isEqualTo(50);
                    assertThat(p.deadLetterAge()).isEqualTo(Duration.ofDays(90));
                });
    }

    private void refused(String property, String mention) {
        runner.withPropertyValues(property).run(ctx -> {
            assertThat(ctx).hasFailed();
            Throwable t = ctx.getStartupFailure();
            StringBuilder all = new StringBuilder();
            for (Throwable c = t; c != null; c = c.getCause()) {
                all.append(c.getMessage()).append('\n');
            }
            assertThat(all.toString()).as(property).contains(mention);
        });
    }

    @Test
    void badValuesAreRefused() {
        refused("vectorsync.retention.batch-size=0", "batchSize");
        refused("vectorsync.retention.batch-size=1000000", "batchSize");
        refused("vectorsync.retention.outbox-age=0s", "vectorsync.retention.outbox-age must be at least");
        refused("vectorsync.retention.outbox-age=-1d", "vectorsync.retention.outbox-age must be at least");
        refused("vectorsync.retention.dead-letter-age=10s", "vectorsync.retention.dead-letter-age must be at least");
        refused("vectorsync.retention.interval=0ms", "vectorsync.retention.interval must be at least");
        refused("vectorsync.retention.interval=soon", "interval");
    }
}
