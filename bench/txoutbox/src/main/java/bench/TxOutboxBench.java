package bench;

import com.gruelbox.transactionoutbox.Dialect;
import com.gruelbox.transactionoutbox.Instantiator;
import com.gruelbox.transactionoutbox.Persistor;
import com.gruelbox.transactionoutbox.Submitter;
import com.gruelbox.transactionoutbox.ThreadLocalContextTransactionManager;
import com.gruelbox.transactionoutbox.TransactionManager;
import com.gruelbox.transactionoutbox.TransactionOutbox;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The relay benchmark's workload through com.gruelbox:transactionoutbox-core, configured as its README
 * recommends (a {@code TransactionManager} from the DataSource, {@code Persistor.forDialect(POSTGRESQL_9)},
 * an executor submitter, {@code flush()} to pick up what is due): every chunk of the benchmark corpus
 * ({@code chunks} rows with prefix {@code chunk-}, the same rows the relay delivered) gets one scheduled
 * call, written 1,000 per transaction as the relay benchmark loads its events, and the call copies that
 * chunk into a fresh copy of the backend table with the same version-guarded upsert. Loading is not timed;
 * the drain is: from the first flush until the outbox table is empty.
 *
 * <p>Arguments: JDBC URL, user, N. Prints one line {@code txoutbox-rate <events/s> <seconds>}.
 */
public final class TxOutboxBench {

    static final String UPSERT = """
            INSERT INTO bench_txoutbox AS t (chunk_id, version, document_id, content, embedding, metadata, privacy,
                                             synced_at)
            SELECT c.chunk_id, c.version, c.document_id, c.content, c.embedding::vector, c.metadata, c.privacy,
                   clock_timestamp()
              FROM chunks c WHERE c.chunk_id = ?
            ON CONFLICT (chunk_id) DO UPDATE
               SET version = EXCLUDED.version, document_id = EXCLUDED.document_id, content = EXCLUDED.content,
                   embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata, privacy = EXCLUDED.privacy,
                   synced_at = EXCLUDED.synced_at
             WHERE t.version < EXCLUDED.version
            """;

    /** The scheduled call: copies one chunk into the target table inside the outbox's transaction. */
    public static class Deliverer {
        static ThreadLocalContextTransactionManager tm;

        public void deliver(String chunkId) {
            try {
                tm.requireTransaction(tx -> {
                    try (PreparedStatement ps = tx.connection().prepareStatement(UPSERT)) {
                        ps.setString(1, chunkId);
                        ps.executeUpdate();
                    }
                });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        int n = Integer.parseInt(args[2]);
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername(user);
        hc.setMaximumPoolSize(threads + 2);
        hc.setAutoCommit(false);
        try (HikariDataSource ds = new HikariDataSource(hc)) {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS bench_txoutbox");
                s.execute("CREATE TABLE bench_txoutbox (LIKE replica_chunks INCLUDING ALL)");
                s.execute("DROP TABLE IF EXISTS txno_outbox, txno_version");
                c.commit();
            }
            ThreadLocalContextTransactionManager tm = TransactionManager.fromDataSource(ds);
            Deliverer.tm = tm;
            Deliverer deliverer = new Deliverer();
            Instantiator instantiator = Instantiator.using(type -> deliverer);

            // Loading: the calls are scheduled in the writing transactions, but nothing runs them yet (the
            // relay benchmark, too, loads its backlog with the relay paused).
            TransactionOutbox loader = TransactionOutbox.builder()
                    .transactionManager(tm)
                    .persistor(Persistor.forDialect(Dialect.POSTGRESQL_9))
                    .instantiator(instantiator)
                    .submitter((entry, work) -> { })
                    .attemptFrequency(Duration.ofSeconds(1))
                    .build();
            List<String> ids = new ArrayList<>(n);
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT chunk_id FROM chunks WHERE chunk_id LIKE 'chunk-%' ORDER BY chunk_id"
                            + " LIMIT " + n)) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
                c.commit();
            }
            for (int from = 0; from < ids.size(); from += 1000) {
                List<String> part = ids.subList(from, Math.min(ids.size(), from + 1000));
                tm.inTransaction(() -> part.forEach(id -> loader.schedule(Deliverer.class).deliver(id)));
            }

            // Every call is due a second after it was scheduled (the library refuses a due time in the past).
            Thread.sleep(1500);

            // The drain, timed. The README's submitter runs the calls on an executor; the default one
            // (Submitter.withDefaultExecutor()) has a bounded queue, and a flush() that overfills it leaves
            // the rejected calls for the next attempt, two minutes later (attemptFrequency). So: an executor
            // with an unbounded queue and as many threads as the pool allows, and flush() whenever the queue
            // runs low, which is as fast as this library can be driven.
            java.util.concurrent.ThreadPoolExecutor executor = new java.util.concurrent.ThreadPoolExecutor(
                    threads, threads, 1, java.util.concurrent.TimeUnit.MINUTES,
                    new java.util.concurrent.LinkedBlockingQueue<>());
            TransactionOutbox outbox = TransactionOutbox.builder()
                    .transactionManager(tm)
                    .persistor(Persistor.forDialect(Dialect.POSTGRESQL_9))
                    .instantiator(instantiator)
                    .submitter(Submitter.withExecutor(executor))
                    .build();
            long t0 = System.nanoTime();
            while (true) {
                if (executor.getQueue().size() < 1000) {
                    outbox.flush();
                }
                long left = count(ds, "SELECT count(*) FROM txno_outbox WHERE processed = false");
                if (left == 0) {
                    break;
                }
                Thread.sleep(20);
            }
            executor.shutdown();
            double seconds = (System.nanoTime() - t0) / 1e9;
            long copied = count(ds, "SELECT count(*) FROM bench_txoutbox");
            if (copied != ids.size()) {
                throw new IllegalStateException("transactionoutbox copied " + copied + " of " + ids.size() + " chunks");
            }
            System.out.println(String.format(Locale.ROOT, "txoutbox-rate %.1f %.3f %d", ids.size() / seconds, seconds,
                    ids.size()));
        }
        // The default submitter's executor has non-daemon threads that would keep the JVM (and exec:java) up.
        System.out.flush();
        System.exit(0);
    }

    private static long count(HikariDataSource ds, String sql) throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            long v = rs.getLong(1);
            c.commit();
            return v;
        }
    }
}
