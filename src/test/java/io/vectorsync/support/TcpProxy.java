package io.vectorsync.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP forwarder on 127.0.0.1 for simulating an unreachable server: {@link #stop()} closes the
 * listening socket (new connections are refused) and cuts every open connection; {@link #start()}
 * listens again on the same port. Bytes are forwarded as they are and never logged.
 */
public final class TcpProxy implements AutoCloseable {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final String targetHost;
    private final int targetPort;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile int port;
    private volatile ServerSocket server;

    private TcpProxy(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
    }

    /** Starts forwarding a free local port to the target. */
    public static TcpProxy forwardingTo(String targetHost, int targetPort) {
        TcpProxy p = new TcpProxy(targetHost, targetPort);
        p.start();
        return p;
    }

    /** Starts forwarding a free local port to the test PostgreSQL server ({@link TestDatabases#HOST_PORT}). */
    public static TcpProxy toTestPostgres() {
        String hp = TestDatabases.HOST_PORT;
        return forwardingTo(hp.substring(0, hp.lastIndexOf(':')), Integer.parseInt(hp.substring(hp.lastIndexOf(':') + 1)));
    }

    public int port() {
        return port;
    }

    public boolean isRunning() {
        return server != null;
    }

    /** Connections accepted since creation. */
    public int acceptedConnections() {
        return accepted.get();
    }

    /** Connections open right now (both sides of each forwarded connection count once). */
    public int openConnections() {
        return open.size() / 2;
    }

    /** Listens (again) on the proxy's port; the first start picks a free port. */
    public synchronized void start() {
        if (server != null) {
            return;
        }
        try {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(LOOPBACK, port), 50);
            port = s.getLocalPort();
            server = s;
            Thread t = new Thread(() -> acceptLoop(s), "tcp-proxy-accept-" + port);
            t.setDaemon(true);
            t.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on 127.0.0.1:" + port, e);
        }
    }

    /** Refuses new connections and cuts the open ones. */
    public synchronized void stop() {
        ServerSocket s = server;
        server = null;
        if (s != null) {
            closeQuietly(s);
        }
        for (Socket c : open) {
            closeQuietly(c);
        }
        open.clear();
    }

    @Override
    public void close() {
        stop();
    }

    private void acceptLoop(ServerSocket s) {
        while (!s.isClosed()) {
            Socket client;
            try {
                client = s.accept();
            } catch (IOException e) {
                return; // closed by stop()
            }
            Socket upstream = new Socket();
            try {
                // Forward each write at once: with Nagle's algorithm on the proxy's sockets, a request split
                // across writes waits for the peer's delayed ACK (40 ms) on every round trip.
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                upstream.connect(new InetSocketAddress(targetHost, targetPort), 5000);
            } catch (IOException e) {
                closeQuietly(client);
                closeQuietly(upstream);
                continue;
            }
            synchronized (this) {
                if (server != s) { // stopped meanwhile
                    closeQuietly(client);
                    closeQuietly(upstream);
                    return;
                }
                open.add(client);
                open.add(upstream);
            }
            accepted.incrementAndGet();
            pump(client, upstream);
            pump(upstream, client);
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (SocketException closed) {
                // cut by stop() or by the other side
            } catch (IOException e) {
                // same: the connection is gone
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
            }
        }, "tcp-proxy-pump-" + port);
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // already closed
        }
    }
}
