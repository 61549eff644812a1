package io.vectorsync.cli;

import java.io.PrintWriter;

/**
 * A one-line progress bar on stderr, drawn only when the CLI runs in a terminal, so scripts and pipes
 * never see it (stdout stays clean either way).
 */
final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final boolean enabled;
    private final String label;
    private boolean drawn;

    ProgressBar(PrintWriter err, boolean enabled, String label) {
        this.err = err;
        this.enabled = enabled;
        this.label = label;
    }

    /** Whether stdin and stdout are a terminal (the JDK's test for an interactive console). */
    static boolean terminal() {
        return System.console() != null;
    }

    void update(long done, long total) {
        if (!enabled) {
            return;
        }
        StringBuilder line = new StringBuilder("\r").append(label).append(" [");
        int filled = total <= 0 ? 0 : (int) Math.min(WIDTH, done * WIDTH / total);
        line.append("#".repeat(filled)).append(".".repeat(WIDTH - filled)).append("] ");
        if (total > 0) {
            line.append(Math.min(100, done * 100 / total)).append("% ");
        }
        line.append(done).append(total > 0 ? "/" + total : "");
        err.print(line);
        err.flush();
        drawn = true;
    }

    void finish() {
        if (enabled && drawn) {
            err.println();
            err.flush();
        }
    }
}
