package io.vectorsync.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.springframework.http.MediaType;

/**
 * The one writer of the service's error answers: every error path (the security filters and the request
 * firewall, the ingest fast path through {@link ApiExceptionHandler}, the controllers' exception handlers,
 * {@code /error}, the TRACE refusal and Tomcat's {@link JsonErrorReportValve}) answers an {@link ApiError}
 * serialised here, so a change of the error format is one change. Nothing of the request is echoed.
 */
public final class ApiErrors {

    /** A plain mapper: {@link ApiError} leaves its null fields out by its own annotation. */
    private static final ObjectMapper JSON = new ObjectMapper();

    private ApiErrors() {}

    /** The error of a bare HTTP status, for what fails outside the controllers (Tomcat, {@code /error}). */
    public static ApiError forStatus(int status) {
        return switch (status) {
            case 400 -> new ApiError("VSYNC-BAD-REQUEST", "The request is malformed (URI, headers or encoding).",
                    null, null);
            case 401 -> new ApiError("VSYNC-AUTH-REQUIRED", "Credentials are needed.", "Authorization", null);
            case 403 -> new ApiError("VSYNC-AUTH-INVALID", "Not allowed.", "Authorization", null);
            case 404 -> new ApiError("VSYNC-NOT-FOUND", "No such path.", null, null);
            case 405 -> new ApiError("VSYNC-METHOD-NOT-ALLOWED", "This path does not take this method.", null, null);
            case 406 -> new ApiError("VSYNC-NOT-ACCEPTABLE", "This API answers in JSON.", "Accept",
                    "application/json");
            case 413 -> new ApiError("VSYNC-PAYLOAD-TOO-LARGE", "The request is too large.", "body", null);
            case 414 -> new ApiError("VSYNC-URI-TOO-LONG", "The URI is too long.", null, null);
            case 415 -> new ApiError("VSYNC-UNSUPPORTED-MEDIA-TYPE", "Send the body as JSON.", "Content-Type",
                    "application/json");
            case 431 -> new ApiError("VSYNC-HEADERS-TOO-LARGE", "The request headers are too large.", null, null);
            default -> status < 500
                    ? new ApiError("VSYNC-BAD-REQUEST", "The request was refused (HTTP " + status + ").", null, null)
                    : internal();
        };
    }

    /** A failure inside vectorsync. */
    public static ApiError internal() {
        return new ApiError("VSYNC-INTERNAL", "The request failed inside vectorsync; nothing was written unless a"
                + " success was returned. Retry, and report it if it persists.", null, null);
    }

    /**
     * A request the firewall refused before any handler saw it: a raw {@code ;} (path parameters), a
     * {@code .} or {@code ..} segment or {@code //} in the raw path, an encoded {@code .}, or a control
     * character in a header or parameter. The offending text is not echoed.
     */
    public static ApiError requestRejected() {
        return new ApiError("VSYNC-BAD-REQUEST", "The request was refused before it was handled: its path has a"
                + " raw ';', a '.' or '..' segment, '//' or an encoded '.', or a header or parameter has a control"
                + " character. Percent-encode ';' in a chunk id (%3B) and send '.' as it is.", null, null);
    }

    /** The JSON text of an error. */
    public static String json(ApiError error) {
        try {
            return JSON.writeValueAsString(error);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("an ApiError always serialises", e);
        }
    }

    /** Writes {@code error} as the whole answer, with {@code status}; headers set before are kept. */
    public static void write(HttpServletResponse response, int status, ApiError error) throws IOException {
        if (response.isCommitted()) {
            return; // an answer has begun; nothing more can be said
        }
        byte[] body = json(error).getBytes(StandardCharsets.UTF_8);
        response.resetBuffer();
        response.setStatus(status);
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.setContentLength(body.length);
        try {
            response.getOutputStream().write(body);
        } catch (IllegalStateException writerInUse) {
            response.getWriter().write(json(error));
        }
        response.flushBuffer();
    }
}
