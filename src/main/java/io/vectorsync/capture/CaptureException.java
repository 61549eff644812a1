package io.vectorsync.capture;

/**
 * Bad input or a conflict on the capture path. Carries the HTTP status, a stable {@code VSYNC-} code,
 * the offending field and what was expected; nothing has been written when it is thrown.
 */
public final class CaptureException extends RuntimeException {

    private final int status;
    private final String code;
    private final String field;
    private final String expected;
    private final long retryAfterSeconds;

    public CaptureException(int status, String code, String field, String expected, String message) {
        this(status, code, field, expected, message, 0);
    }

    /**
     * A refusal the client may repeat later (429, 503): {@code retryAfterSeconds} (at least 1) becomes the
     * answer's {@code Retry-After} header.
     */
    public CaptureException(int status, String code, String field, String expected, String message,
            long retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.field = field;
        this.expected = expected;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String field() {
        return field;
    }

    public String expected() {
        return expected;
    }

    /** Seconds to wait before repeating the request ({@code Retry-After}); 0: no such advice. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
