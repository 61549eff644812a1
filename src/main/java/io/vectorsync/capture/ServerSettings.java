package io.vectorsync.capture;

import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VectorsyncProperties;
import jakarta.annotation.PostConstruct;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Records the server's configuration that the database's own functions check in {@code server_settings}
 * (V18), at every start-up, before the API serves: {@code vectorsync.embedding-dimension}, which the
 * remote's sync functions hold a device's embeddings to (VSYNC-EMBEDDING-DIMENSION, as the API does). The
 * last server started decides; a change is logged. A database without the table (migrations not run by this
 * service) is logged and left unchecked rather than stopping the server.
 */
@Component
@ServerOnly
public class ServerSettings {

    private static final Logger log = LoggerFactory.getLogger(ServerSettings.class);

    private final JdbcTemplate jdbc;
    private final int dimension;

    public ServerSettings(JdbcTemplate jdbc, VectorsyncProperties properties) {
        this.jdbc = jdbc;
        this.dimension = properties.embeddingDimension();
    }

    @PostConstruct
    void record() {
        try {
            List<Integer> before = jdbc.queryForList(
                    "UPDATE server_settings s SET embedding_dimension = ?, updated_at = clock_timestamp()"
                            + " FROM (SELECT embedding_dimension FROM server_settings FOR UPDATE) old"
                            + " WHERE s.embedding_dimension IS DISTINCT FROM ? RETURNING old.embedding_dimension",
                    Integer.class, dimension, dimension);
            if (!before.isEmpty() && before.get(0) != null) {
                log.warn("The embedding dimension devices are held to changed from {} to {}"
                        + " (vectorsync.embedding-dimension)", before.get(0), dimension);
            }
        } catch (DataAccessException e) {
            log.warn("Cannot record the embedding dimension in server_settings ({}): the remote's sync functions"
                    + " do not check a device's embeddings", e.getClass().getSimpleName());
        }
    }
}
