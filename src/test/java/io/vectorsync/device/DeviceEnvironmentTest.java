package io.vectorsync.device;

import static org.assertj.core.api.Assertions.assertThat;

import io.vectorsync.config.LocalProperties.Synchronous;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code vectorsync.local.synchronous} reaches SQLite: a real file opened with the URL the device uses. */
class DeviceEnvironmentTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"NORMAL, 1", "FULL, 2"})
    void theSynchronousSettingIsTheConnectionsPragma(Synchronous level, String pragma) throws Exception {
        try (Connection c = DriverManager.getConnection(DeviceEnvironment.url(dir.resolve("local.db"), level));
                Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA synchronous")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(pragma);
            }
            try (ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("wal");
            }
        }
    }
}
