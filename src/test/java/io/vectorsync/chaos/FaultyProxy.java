package io.vectorsync.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault-injecting TCP proxy on 127.0.0.1 in front of an HTTP server. For each request (the first bytes
 * a client sends after the previous answer) it draws one fault, seeded:
 * <ul>
 * <li><b>reset before</b>: the connection is reset (RST) before the request reaches the server;</li>
 * <li><b>reset after</b>: the request reaches the server, the connection is reset when its answer comes
 * back (applied but never acknowledged: the relay sends it again);</li>
 * <li><b>half-open stall</b>: the request reaches the server, the answer is swallowed and the connection
 * stays open and silent until the client gives up (its read timeout);</li>
 * <li><b>slow</b>: the answer is held back for a while before it is forwarded.</li>
 * </ul>
 * Bytes are never logged.
 */
final class FaultyProxy implements AutoCloseable {

    /** Per-request probabilities, in per mille. */
    record Faults(int resetBeforePerMille, int resetAfterPerMille, int stallPerMille, int slowPerMille,
            int slowMaxMillis) {
    }

    private final String targetHost;
    private final int targetPort;
    private final Faults faults;
    private final SplittableRandom random;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong resetsBefore = new AtomicLong();
    final AtomicLong resetsAfter = new AtomicLong();
    final AtomicLong stalls = new AtomicLong();
    final AtomicLong slow = new AtomicLong();
    private volatile boolean enabled = true;
    private final CountDownLatch closed = new CountDownLatch(1);

    FaultyProxy(String targetHost, int targetPort, Faults faults, long seed) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.faults = faults;
        this.random = new SplittableRandom(seed);
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        Thread t = new Thread(this::acceptLoop, "faulty-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Faults on or off (off: a plain forwarder, for the final drain). */
    void faults(boolean on) {
        enabled = on;
    }

    private enum Fault { NONE, RESET_BEFORE, RESET_AFTER, STALL, SLOW }

    private synchronized Fault draw() {
        requests.incrementAndGet();
        if (!enabled) {
            return Fault.NONE;
        }
        int r = random.nextInt(1000);
        if ((r -= faults.resetBeforePerMille()) < 0) {
            resetsBefore.incrementAndGet();
            return Fault.RESET_BEFORE;
        }
        if ((r -= faults.resetAfterPerMille()) < 0) {
            resetsAfter.incrementAndGet();
            return Fault.RESET_AFTER;
        }
        if ((r -= faults.stallPerMille()) < 0) {
            stalls.incrementAndGet();
            return Fault.STALL;
        }
        if (r - faults.slowPerMille() < 0) {
            slow.incrementAndGet();
            return Fault.SLOW;
        }
        return Fault.NONE;
    }

    private synchronized int slowMillis() {
        return 100 + random.nextInt(Math.max(1, faults.slowMaxMillis() - 100));
    }

    /** One proxied connection: the fault of the request in flight, read by the answer's pump. */
    private final class Connection {
        final Socket client;
        final Socket upstream;
        volatile boolean newRequest = true;
        volatile Fault fault = Fault.NONE;

        Connection(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void requests() {
            byte[] buf = new byte[32768];
            try (InputStream in = client.getInputStream(); OutputStream out = upstream.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    if (newRequest) {
                        newRequest = false;
                        fault = draw();
                        if (fault == Fault.RESET_BEFORE) {
                            reset();
                            return;
                        }
                    }
                    if (fault == Fault.STALL) {
                        continue; // half-open: nothing more goes through this connection
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // the connection is gone
            } finally {
                closeBoth();
            }
        }

        void answers() {
            byte[] buf = new byte[32768];
            try (InputStream in = upstream.getInputStream(); OutputStream out = client.getOutputStream()) {
                int n;
                boolean first = true;
                while ((n = in.read(buf)) >= 0) {
                    Fault f = fault;
                    if (f == Fault.STALL) {
                        continue; // swallowed; the client waits until its timeout
                    }
                    if (f == Fault.RESET_AFTER) {
                        reset();
                        return;
                    }
                    if (f == Fault.SLOW && first) {
                        // The injected fault: a slow network or server. It holds the answer until its delay
                        // has passed, or at once when the proxy closes.
                        closed.await(slowMillis(), TimeUnit.MILLISECONDS);
                    }
                    first = false;
                    out.write(buf, 0, n);
                    out.flush();
                    if (in.available() == 0) {
                        // The answer is (most likely) complete: the next bytes from the client start a request.
                        newRequest = true;
                        first = true;
                        fault = Fault.NONE;
                    }
                }
            } catch (IOException e) {
                // the connection is gone
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                closeBoth();
            }
        }

        /** An RST to the client (SO_LINGER 0), and the upstream side closed. */
        void reset() {
            try {
                client.setSoLinger(true, 0);
            } catch (IOException ignored) {
                // closing anyway
            }
            closeBoth();
        }

        void closeBoth() {
            quietly(client);
            quietly(upstream);
            open.remove(client);
            open.remove(upstream);
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(new InetSocketAddress(targetHost, targetPort), 5000);
            } catch (IOException e) {
                quietly(client);
                quietly(upstream);
                continue;
            }
            open.add(client);
            open.add(upstream);
            Connection c = new Connection(client, upstream);
            daemon(c::requests, "faulty-proxy-requests");
            daemon(c::answers, "faulty-proxy-answers");
        }
    }

    private static void daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private static void quietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed.countDown();
        quietly(server);
        open.forEach(FaultyProxy::quietly);
        open.clear();
    }
}
