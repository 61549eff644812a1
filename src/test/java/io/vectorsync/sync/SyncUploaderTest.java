package io.vectorsync.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.vectorsync.config.SyncProperties;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The upload's backoff and how a failed call of the remote is classified. */
class SyncUploaderTest {

    @Test
    void backoffDoublesFromTheBaseDelayUpToTheMaxDelay() {
        SyncProperties.Retry retry = new SyncProperties.Retry(5, Duration.ofSeconds(1), Duration.ofSeconds(5));
        assertThat(SyncUploader.backoff(retry, 1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(SyncUploader.backoff(retry, 2)).isEqualTo(Duration.ofSeconds(2));
        assertThat(SyncUploader.backoff(retry, 3)).isEqualTo(Duration.ofSeconds(4));
        assertThat(SyncUploader.backoff(retry, 4)).isEqualTo(Duration.ofSeconds(5));
        assertThat(SyncUploader.backoff(retry, 60)).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void connectionTroubleIsTransientAndARefusalIsPermanent() {
        assertThat(RemoteSync.classify("sync_apply", new SQLException("refused", "08001")))
                .isInstanceOf(RemoteSyncException.Unreachable.class)
                .extracting(RemoteSyncException::code).isEqualTo("VSYNC-SYNC-001");
        assertThat(RemoteSync.classify("sync_apply", new SQLTransientConnectionException("pool timeout")))
                .isInstanceOf(RemoteSyncException.Unreachable.class);
        assertThat(RemoteSync.classify("sync_apply", new SQLException("shutting down", "57P01")))
                .isInstanceOf(RemoteSyncException.Unreachable.class);
        assertThat(RemoteSync.classify("sync_apply", new SQLException("lock timeout", "55P03")))
                .isInstanceOf(RemoteSyncException.Unreachable.class);
        assertThat(RemoteSync.classify("sync_apply", new SQLException("permission denied", "42501")))
                .isInstanceOf(RemoteSyncException.CallFailed.class)
                .extracting(RemoteSyncException::code).isEqualTo("VSYNC-SYNC-002");
    }
}
