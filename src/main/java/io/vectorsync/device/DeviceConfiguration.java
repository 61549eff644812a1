package io.vectorsync.device;

import io.vectorsync.capture.CommitListener;
import io.vectorsync.capture.DeliveryStatus;
import io.vectorsync.config.DeviceOnly;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The device's own beans besides its store ({@link SqliteChunkStore}): the physical clock, the hybrid
 * logical clock continued from what the database holds, and the capture path's two hooks.
 */
@Configuration(proxyBeanMethods = false)
@DeviceOnly
public class DeviceConfiguration {

    private static final String LAST_TIME = "SELECT max(modified_at) FROM chunks";

    /** The physical clock; a test registers its own {@link Clock} bean (or singleton) before this one. */
    @Bean
    @ConditionalOnMissingBean(Clock.class)
    Clock clock() {
        return Clock.systemUTC();
    }

    /**
     * The hybrid logical clock, continued after the latest time the database holds (the kept last time,
     * every chunk's {@code modified_at}, local or downloaded) with the correction kept from the last sync.
     */
    @Bean
    HybridClock hybridClock(Clock clock, DeviceSettings settings, JdbcTemplate jdbc) {
        String last = Stream.of(settings.get(DeviceSettings.HLC_LAST).orElse(null),
                        jdbc.queryForObject(LAST_TIME, String.class))
                .filter(Objects::nonNull).map(HybridClock::parse).max(Instant::compareTo).map(HybridClock::format)
                .orElse(null);
        Duration correction = Duration.of(Long.parseLong(settings.get(DeviceSettings.CLOCK_OFFSET_MICROS).orElse("0")),
                java.time.temporal.ChronoUnit.MICROS);
        return new HybridClock(clock, last, correction,
                micros -> settings.put(DeviceSettings.CLOCK_OFFSET_MICROS, Long.toString(micros)));
    }

    /** After a local write committed: {@link LocalWriteCommitted}, which the upload listens to. */
    @Bean
    CommitListener deviceCommitListener(ApplicationEventPublisher events) {
        return new CommitListener() {
            @Override
            public void committed() {
                events.publishEvent(new LocalWriteCommitted(this));
            }
        };
    }

    /**
     * A device has no backends: its chunks carry their one sync status ({@link SqliteChunkStore#read}), so
     * this is never asked for more than an empty map.
     */
    @Bean
    DeliveryStatus deviceDeliveryStatus() {
        return (chunkId, version) -> Map.of();
    }
}
