package io.vectorsync.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Databases for tests on the real PostgreSQL at 127.0.0.1:5432 (trust auth): each test class gets its
 * own, created on first use and dropped when the test JVM exits. Override the server with
 * {@code VSYNC_TEST_PG} (host:port) and the user with {@code VSYNC_TEST_PG_USER}.
 */
public final class TestDatabases {

    public static final String HOST_PORT = env("VSYNC_TEST_PG", "127.0.0.1:5432");
    public static final String USER = env("VSYNC_TEST_PG_USER", "postgres");
    private static final Set<String> CREATED = ConcurrentHashMap.newKeySet();
    private static final AtomicInteger SEQ = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> CREATED.forEach(TestDatabases::dropQuietly)));
    }

    private TestDatabases() {}

    private static String env(String name, String def) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? def : v;
    }

    public static String url(String database) {
        return "jdbc:postgresql://" + HOST_PORT + "/" + database;
    }

    /** Creates a new, empty database whose name starts with the hint, and returns its name. */
    public static String create(String hint) {
        String name = ("vst_" + hint.replaceAll("[^A-Za-z0-9]", "_") + "_" + ProcessHandle.current().pid() + "_"
                + SEQ.incrementAndGet()).toLowerCase(Locale.ROOT);
        if (name.length() > 60) {
            name = name.substring(name.length() - 60);
            if (!Character.isLetter(name.charAt(0))) {
                name = "v" + name.substring(1);
            }
        }
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name + " on " + HOST_PORT
                    + " (is PostgreSQL running? see DEVELOPERS.md)", e);
        }
        CREATED.add(name);
        return name;
    }

    /** A plain data source on the database (no pool), for tests that need no application context. */
    public static org.springframework.jdbc.datasource.DriverManagerDataSource dataSource(String database) {
        return new org.springframework.jdbc.datasource.DriverManagerDataSource(url(database), USER, "");
    }

    /**
     * The service's migrations on {@code dataSource}, up to {@code target} ("latest", or a version such as
     * "19" to build the schema as an older release left it).
     */
    public static org.flywaydb.core.Flyway migrations(javax.sql.DataSource dataSource, String target) {
        return org.flywaydb.core.Flyway.configure().dataSource(dataSource).locations("classpath:db/migration")
                .target(target).load();
    }

    public static Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(url(database), USER, "");
    }

    static Connection admin() throws SQLException {
        return DriverManager.getConnection(url("postgres"), USER, "");
    }

    public static void drop(String name) {
        dropQuietly(name);
        CREATED.remove(name);
    }

    private static void dropQuietly(String name) {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (SQLException ignored) {
            // best effort at exit
        }
    }
}
