package io.vectorsync.cli;

/** A failure that ends the command with a documented exit code and a one-line message on stderr. */
final class CliException extends RuntimeException {

    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
