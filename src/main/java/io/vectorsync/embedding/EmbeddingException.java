package io.vectorsync.embedding;

/**
 * An embedding call that failed. {@code permanent}: retrying cannot help (the endpoint refused the request,
 * answered vectors of another dimension); otherwise a retry may (timeouts, 429 past the patience, 5xx). The
 * message names the provider and the status, never the texts.
 */
public final class EmbeddingException extends RuntimeException {

    private final String code;
    private final boolean permanent;

    public EmbeddingException(String code, boolean permanent, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.permanent = permanent;
    }

    public EmbeddingException(String code, boolean permanent, String message) {
        this(code, permanent, message, null);
    }

    public String code() {
        return code;
    }

    public boolean permanent() {
        return permanent;
    }
}
