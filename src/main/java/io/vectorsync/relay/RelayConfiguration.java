package io.vectorsync.relay;

import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.BackendTypes;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VectorsyncProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the backends and makes sure each has a cursor before its relay route starts. */
@Configuration(proxyBeanMethods = false)
@ServerOnly
public class RelayConfiguration {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RelayConfiguration.class);

    /** One circuit-breaker configuration per backend, before Camel builds the routes that refer to it. */
    @Bean
    static RelayBreakers relayBreakers(org.springframework.core.env.Environment environment) {
        return new RelayBreakers(environment);
    }

    /**
     * Spring's one {@link org.springframework.scheduling.TaskScheduler} of the application: it runs the
     * lease heartbeat of batches being delivered (ADR 014). Built from Boot's builder, so
     * {@code spring.task.scheduling.*} applies and shutdown waits for it gracefully.
     */
    @Bean(name = "taskScheduler")
    @org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean(
            org.springframework.scheduling.TaskScheduler.class)
    org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler taskScheduler(
            org.springframework.boot.task.ThreadPoolTaskSchedulerBuilder builder) {
        org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler scheduler =
                builder.poolSize(2).threadNamePrefix("vectorsync-lease-").build();
        // Camel stops the relay routes after the context-closed event: batches still being delivered then
        // keep their heartbeat (and one polled just before may start one) until the scheduler is destroyed.
        scheduler.setAcceptTasksAfterContextClose(true);
        return scheduler;
    }

    @Bean
    BackendRegistry backendRegistry(VectorsyncProperties properties, javax.sql.DataSource primary,
            com.fasterxml.jackson.databind.ObjectMapper json, CursorRepository cursors) {
        requireOnePartition(new org.springframework.jdbc.core.JdbcTemplate(primary));
        BackendRegistry registry = new BackendRegistry(properties, new BackendTypes.Context(primary,
                properties.embeddingDimension(), json, java.time.Clock.systemUTC()));
        // A backend configured for the first time is backfilled from a snapshot of chunks, then reads the
        // outbox after that snapshot (ADR 009); with backfill=false it reads the whole outbox instead.
        registry.all().keySet().forEach(name -> {
            if (properties.backends().get(name).backfill()) {
                if (cursors.createBackfilling(name)) {
                    log.info("Backend '{}' is new: backfilling it from chunks, then relaying from that snapshot",
                            name);
                }
            } else {
                cursors.createIfMissing(name, CursorRepository.BEGINNING);
            }
        });
        return registry;
    }

    /**
     * The relay reads generation 1, partition 0 of the outbox until it reads by partition (ADR 032): on any
     * other partitioning it would deliver only part of the outbox, so it refuses to start.
     */
    static void requireOnePartition(org.springframework.jdbc.core.JdbcTemplate jdbc) {
        java.util.Map<String, Object> p = jdbc.queryForMap("SELECT generation, partitions FROM relay_partitioning");
        int generation = ((Number) p.get("generation")).intValue();
        int partitions = ((Number) p.get("partitions")).intValue();
        if (generation != 1 || partitions != 1) {
            throw new IllegalStateException("VSYNC-CONFIG-PARTITIONS: relay_partitioning holds generation "
                    + generation + " with " + partitions + " partitions; this version relays generation 1 with one"
                    + " partition only (ADR 032): set it back to (1, 1) before starting");
        }
    }
}
