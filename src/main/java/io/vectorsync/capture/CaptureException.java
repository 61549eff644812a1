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

    public CaptureException(int status, String code, String field, String expected, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.field = field;
        this.expected = expected;
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
}
