package io.vectorsync.ingest;

import io.vectorsync.capture.ChunkStore;
import io.vectorsync.capture.CommitListener;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.embedding.EmbeddingProvider;
import java.util.function.Supplier;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Writes of chunks whose embedding a provider made, through the capture path ({@link ChunkStore}: each
 * chunk and its outbox event in the same transaction): the transaction-local settings
 * {@code vectorsync.embedding_model} and {@code vectorsync.embedding_model_version} make V16's trigger record
 * the model with every chunk written in it; the relays are told after the commit.
 */
@Component
@ServerOnly
public class EmbeddedWrites {

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final ChunkStore store;
    private final CommitListener committed;

    public EmbeddedWrites(JdbcTemplate jdbc, TransactionTemplate tx, ChunkStore store, CommitListener committed) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.store = store;
        this.committed = committed;
    }

    public ChunkStore store() {
        return store;
    }

    /** Runs {@code work} in one transaction whose chunk writes are recorded as embedded by {@code model}. */
    public <T> T inTransaction(EmbeddingProvider model, Supplier<T> work) {
        T result = tx.execute(s -> {
            jdbc.queryForList("SELECT set_config('vectorsync.embedding_model', ?, true),"
                    + " set_config('vectorsync.embedding_model_version', ?, true)", model.model(), model.modelVersion());
            return work.get();
        });
        committed.committed();
        return result;
    }
}
