package io.vectorsync.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.validation.ValidationAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/**
 * vectorsync.jobs.retention binds with its default (7d) and is refused at start-up when it is under a minute
 * or shorter than a completed-window (the global one or a type's), since a completed job inside its window
 * must still be there for an enqueue of the same work.
 */
class JobsPropertiesTest {

    @Configuration
    @EnableConfigurationProperties(JobsProperties.class)
    static class Config {}

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Config.class);

    @Test
    void retentionDefaultsToSevenDays() {
        runner.run(ctx -> assertThat(ctx.getBean(JobsProperties.class).retention()).isEqualTo(Duration.ofDays(7)));
    }

    @Test
    void aRetentionAtLeastEveryWindowBinds() {
        runner.withPropertyValues("vectorsync.jobs.retention=2h", "vectorsync.jobs.completed-window=2h",
                "vectorsync.jobs.types[INGEST].completed-window=90m").run(ctx -> {
                    JobsProperties p = ctx.getBean(JobsProperties.class);
                    assertThat(p.retention()).isEqualTo(Duration.ofHours(2));
                    assertThat(p.completedWindow("INGEST")).isEqualTo(Duration.ofMinutes(90));
                });
    }

    @Test
    void aZeroNegativeOrTinyRetentionIsRefused() {
        refused("at least PT1M but was PT0S", "vectorsync.jobs.retention=0s");
        refused("at least PT1M but was PT-1H", "vectorsync.jobs.retention=-1h");
        refused("at least PT1M but was PT30S", "vectorsync.jobs.retention=30s");
    }

    @Test
    void aRetentionShorterThanACompletedWindowIsRefused() {
        refused("shorter than vectorsync.jobs.completed-window (PT1H)", "vectorsync.jobs.retention=30m");
        refused("shorter than vectorsync.jobs.types.NOOP.completed-window (PT3H)", "vectorsync.jobs.retention=2h",
                "vectorsync.jobs.types[NOOP].completed-window=3h");
    }

    private void refused(String because, String... properties) {
        runner.withPropertyValues(properties).run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("VSYNC-CONFIG-JOBS")
                    .hasMessageContaining(because);
        });
    }
}
