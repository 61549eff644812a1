package io.vectorsync.relay;

import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VectorsyncProperties;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.jdbc.DataSourceProperties;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Optional ({@code vectorsync.relay.listen-notify=true}): LISTENs on {@code vectorsync_outbox} on a dedicated
 * connection outside the pool and wakes the relays on every notification, so events enqueued by other
 * processes (with the database setting {@code vectorsync.notify = 'on'}) are relayed without waiting
 * for the poll. The poll keeps running: a lost notification only costs one poll interval.
 */
@Component
@ConditionalOnProperty(name = "vectorsync.relay.listen-notify", havingValue = "true")
@ServerOnly
public class NotifyListener implements SmartLifecycle {

    static final String CHANNEL = "vectorsync_outbox";
    private static final Logger log = LoggerFactory.getLogger(NotifyListener.class);

    private final DataSourceProperties dataSource;
    private final RelayWakeup wakeup;
    private final VectorsyncProperties properties;
    private volatile boolean running;
    private Thread thread;

    public NotifyListener(DataSourceProperties dataSource, RelayWakeup wakeup, VectorsyncProperties properties) {
        this.dataSource = dataSource;
        this.wakeup = wakeup;
        this.properties = properties;
    }

    @Override
    public void start() {
        running = true;
        thread = new Thread(this::listen, "vectorsync-notify");
        thread.setDaemon(true);
        thread.start();
    }

    private void listen() {
        while (running) {
            try (Connection c = java.sql.DriverManager.getConnection(dataSource.determineUrl(),
                    dataSource.determineUsername(), dataSource.determinePassword())) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                log.info("Listening for NOTIFY on {}", CHANNEL);
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running) {
                    var notes = pg.getNotifications((int) properties.relay().pollInterval().toMillis());
                    if (notes != null && notes.length > 0) {
                        wakeup.wakeAll();
                    }
                }
            } catch (SQLException e) {
                if (running) {
                    log.warn("NOTIFY listener lost its connection ({}); the poll continues, retrying in {}",
                            e.getSQLState(), properties.relay().backoffBase());
                    try {
                        Thread.sleep(properties.relay().backoffBase().toMillis());
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }

    @Override
    public void stop() {
        running = false;
        if (thread != null) {
            thread.interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
