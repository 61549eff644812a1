package io.vectorsync.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.vectorsync.config.AlertProperties;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.validation.ValidationAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/** {@code vectorsync.alerts.*} binds with defaults and overrides, and bad values stop the start-up naming the property. */
class AlertPropertiesTest {

    @Configuration
    @EnableConfigurationProperties(AlertProperties.class)
    static class Config {}

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Config.class);

    @Test
    void defaultsAndPerBackendOverridesApply() {
        runner.withPropertyValues("vectorsync.alerts.backends.search.lag-seconds=60",
                "vectorsync.alerts.backends.search.no-progress=2m").run(ctx -> {
            AlertProperties p = ctx.getBean(AlertProperties.class);
            assertThat(p.of("replica")).isEqualTo(new AlertProperties.Effective(300, 1, 0.5, Duration.ofMinutes(10)));
            assertThat(p.of("search")).isEqualTo(new AlertProperties.Effective(60, 1, 0.5, Duration.ofMinutes(2)));
            assertThat(p.failureWindow()).isEqualTo(Duration.ofMinutes(5));
            assertThat(p.failureMinAttempts()).isEqualTo(3);
            assertThat(p.hasWebhook()).isFalse();
        });
    }

    @Test
    void aFailureRateAboveOneIsRefusedNamingTheProperty() {
        runner.withPropertyValues("vectorsync.alerts.failure-rate=1.5").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("failureRate");
            assertThat(messages(ctx.getStartupFailure())).contains("vectorsync.alerts");
        });
    }

    @Test
    void aZeroLagThresholdInAnOverrideIsRefused() {
        runner.withPropertyValues("vectorsync.alerts.backends.replica.lag-seconds=0").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(messages(ctx.getStartupFailure())).contains("backends[replica].lagSeconds");
        });
    }

    @Test
    void aWebhookThatIsNotAnHttpUrlIsRefusedNamingTheProperty() {
        runner.withPropertyValues("vectorsync.alerts.webhook-url=ftp://example.invalid/x").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(messages(ctx.getStartupFailure()))
                    .contains("vectorsync.alerts.webhook-url must be an absolute http or https URL");
        });
    }

    @Test
    void aTooShortNoProgressOverrideIsRefusedNamingTheProperty() {
        runner.withPropertyValues("vectorsync.alerts.backends.replica.no-progress=10ms").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(messages(ctx.getStartupFailure()))
                    .contains("vectorsync.alerts.backends.replica.no-progress must be at least 1000ms");
        });
    }

    private static String messages(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            b.append(c.getMessage()).append('\n');
        }
        return b.toString();
    }
}
