package io.vectorsync.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.config.SyncProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Keeps every conflict the device learns of: a row of the device's {@code conflicts} table with the policy,
 * the winner and the reason, and with {@code vectorsync.sync.conflict.preserve-original} (the default) both
 * sides as JSON and the loser as {@code <chunkId>_v<version>.json} under {@code conflict.folder}. A conflict
 * is logged with its chunk id and versions only ({@code VSYNC-SYNC-003}), never its content.
 */
@Component
@DeviceOnly
public class ConflictKeeper {

    private static final Logger log = LoggerFactory.getLogger(ConflictKeeper.class);

    private static final String INSERT = """
            INSERT INTO conflicts (chunk_id, policy, winner, reason, local_json, remote_json, loser_version, loser_file,
                                   detected_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """;

    /** One conflict: the local and the remote side (rows as the remote returns them), who won and why. */
    public record Conflict(String chunkId, String winner, String reason, JsonNode local, JsonNode remote,
            long loserVersion) {

        /** Both sides with their embeddings as JSON arrays: the table and the files are for people. */
        public Conflict {
            local = RemoteRows.readable(local);
            remote = RemoteRows.readable(remote);
        }

        JsonNode loser() {
            return "local".equals(winner) ? remote : local;
        }
    }

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final SyncProperties.Conflict config;

    public ConflictKeeper(JdbcTemplate jdbc, ObjectMapper json, SyncProperties properties) {
        this.jdbc = jdbc;
        this.json = json;
        this.config = properties.conflict();
    }

    /** Records the conflict (call inside the transaction that applies its outcome); returns the loser's file. */
    public String keep(Conflict c, String now) {
        String file = null;
        boolean keepBoth = config.preserveOriginal();
        if (keepBoth && c.loser() != null && !c.loser().isNull()) {
            file = writeLoser(c);
        }
        jdbc.update(INSERT, c.chunkId(), config.policy().wire(), c.winner(), c.reason(),
                keepBoth ? text(c.local()) : null, keepBoth ? text(c.remote()) : null, c.loserVersion(), file, now);
        log.warn("VSYNC-SYNC-003 conflict on chunk {}: {} wins ({}, policy {}), loser v{}{}", c.chunkId(), c.winner(),
                c.reason(), config.policy().wire(), c.loserVersion(), file == null ? "" : " kept in " + file);
        return file;
    }

    /** {@code <chunkId>_v<version>.json}, written to a temporary file first and moved in place. */
    private String writeLoser(Conflict c) {
        try {
            Path folder = Path.of(config.folder());
            Files.createDirectories(folder);
            String base = c.chunkId().replaceAll("[^A-Za-z0-9._-]", "_") + "_v" + c.loserVersion();
            Path target = folder.resolve(base + ".json");
            for (int n = 2; Files.exists(target); n++) { // a second conflict of the same version keeps both
                target = folder.resolve(base + "-" + n + ".json");
            }
            Path tmp = Files.createTempFile(folder, base, ".tmp");
            Files.writeString(tmp, json.writerWithDefaultPrettyPrinter().writeValueAsString(c.loser()));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return target.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("VSYNC-SYNC-003: cannot keep the loser of chunk " + c.chunkId() + " in "
                    + config.folder(), e);
        }
    }

    private String text(JsonNode node) {
        return node == null || node.isNull() ? null : node.toString();
    }
}
