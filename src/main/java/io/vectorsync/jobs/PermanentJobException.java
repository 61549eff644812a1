package io.vectorsync.jobs;

/**
 * A failure no retry can mend (bad input the schema could not catch, a model of another dimension): the
 * job is FAILED at once. Every other exception a handler throws is transient and retried with backoff up to
 * the type's {@code max-attempts}.
 */
public final class PermanentJobException extends RuntimeException {

    private final String code;

    public PermanentJobException(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
