package io.vectorsync.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.validation.ValidationAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/** The lease settings and the backends' timeouts (ADR 014) bind with their defaults and refuse bad values. */
class RelayLeasePropertiesTest {

    @Configuration
    @EnableConfigurationProperties(VectorsyncProperties.class)
    static class Config {}

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Config.class);

    @Test
    void theHeartbeatDefaultsToAThirdOfTheLeaseAndTheCallTimeoutToConnectPlusRead() {
        runner.withPropertyValues("vectorsync.relay.lease-ttl=6s", "vectorsync.backends.hooks.type=webhook",
                "vectorsync.backends.hooks.read-timeout=3s", "vectorsync.backends.hooks.connect-timeout=1s")
                .run(ctx -> {
                    VectorsyncProperties p = ctx.getBean(VectorsyncProperties.class);
                    assertThat(p.relay().leaseHeartbeat()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(p.callTimeoutOf("hooks")).isEqualTo(Duration.ofSeconds(4));
                    assertThat(p.callTimeoutOf("unknown")).isEqualTo(Duration.ofSeconds(35));
                });
    }

    @Test
    void anExplicitHeartbeatUpToHalfTheLeaseIsKept() {
        runner.withPropertyValues("vectorsync.relay.lease-ttl=10s", "vectorsync.relay.lease-heartbeat=5s")
                .run(ctx -> assertThat(ctx.getBean(VectorsyncProperties.class).relay().leaseHeartbeat())
                        .isEqualTo(Duration.ofSeconds(5)));
    }

    private void refused(String mention, String... properties) {
        runner.withPropertyValues(properties).run(ctx -> {
            assertThat(ctx).hasFailed();
            StringBuilder all = new StringBuilder();
            for (Throwable c = ctx.getStartupFailure(); c != null; c = c.getCause()) {
                all.append(c.getMessage()).append('\n');
            }
            assertThat(all.toString()).as(String.join(", ", properties)).contains(mention);
        });
    }

    @Test
    void badLeaseSettingsAreRefusedWithTheirPropertyNamed() {
        refused("vectorsync.relay.lease-heartbeat (PT6S) must be at most half of vectorsync.relay.lease-ttl (PT10S)",
                "vectorsync.relay.lease-ttl=10s", "vectorsync.relay.lease-heartbeat=6s");
        refused("vectorsync.relay.lease-heartbeat must be positive", "vectorsync.relay.lease-heartbeat=0s");
        refused("vectorsync.relay.lease-ttl must be at least PT1S", "vectorsync.relay.lease-ttl=500ms");
        refused("vectorsync.backends.hooks.read-timeout must be positive", "vectorsync.backends.hooks.type=webhook",
                "vectorsync.backends.hooks.read-timeout=0s");
        refused("vectorsync.backends.hooks.connect-timeout must be positive", "vectorsync.backends.hooks.type=webhook",
                "vectorsync.backends.hooks.connect-timeout=-1s");
    }
}
