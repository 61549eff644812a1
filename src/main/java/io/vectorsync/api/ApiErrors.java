package io.vectorsync.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.json.ProblemDetailJacksonMixin;

/**
 * The one writer of the service's error answers, as RFC 9457 problem details
 * ({@code application/problem+json}, Spring's {@link ProblemDetail}): every error path (the security
 * entry point, access-denied handler and request firewall, the ingest fast path and the controllers
 * through {@link ApiExceptionHandler}, {@code /error}, the TRACE refusal and Tomcat's
 * {@link JsonErrorReportValve}) answers through here, so a change of the error format is one change (ADR
 * 022). Members: {@code type} ({@value #TYPE_BASE} and the code in lower case, documented under that anchor
 * in docs/api.md), {@code title} ({@link ProblemTitles}), {@code status}, {@code detail}, {@code instance}
 * (the request path, when it is not itself what was refused), and the extension members {@code code} (the
 * stable {@code VSYNC-} code), {@code field} and {@code expected} when known. Nothing of the request body
 * is echoed.
 */
public final class ApiErrors {

    /** The type URIs' common prefix; the code, lower-cased, follows it. */
    public static final String TYPE_BASE = "https://vectorsync.io/errors/";

    /** The content type of every error answer. */
    public static final String PROBLEM_JSON = MediaType.APPLICATION_PROBLEM_JSON_VALUE;

    /**
     * A plain mapper with Spring's mix-in for {@link ProblemDetail} (empty members left out, the
     * extension members at the top level), as Spring Boot's own mapper has it.
     */
    private static final ObjectMapper JSON = new ObjectMapper()
            .addMixIn(ProblemDetail.class, ProblemDetailJacksonMixin.class);

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

    /** The {@code type} URI of a code: {@value #TYPE_BASE} and the code in lower case. */
    public static URI type(String code) {
        return URI.create(TYPE_BASE + code.toLowerCase(Locale.ROOT));
    }

    /** The problem details of {@code error} with {@code status}; {@code instance} may be null. */
    public static ProblemDetail problem(int status, ApiError error, String instance) {
        ProblemDetail p = ProblemDetail.forStatus(HttpStatusCode.valueOf(status));
        p.setType(type(error.code()));
        p.setTitle(ProblemTitles.title(error.code(), status));
        p.setDetail(error.detail());
        p.setInstance(reference(instance));
        p.setProperty("code", error.code());
        if (error.field() != null) {
            p.setProperty("field", error.field());
        }
        if (error.expected() != null) {
            p.setProperty("expected", error.expected());
        }
        return p;
    }

    /**
     * The path the client asked for, as it sent it (percent-encoded, without the query), also on an error
     * dispatch to {@code /error}: the {@code instance} member.
     */
    public static String instance(HttpServletRequest request) {
        Object original = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
        return original instanceof String s ? s : request.getRequestURI();
    }

    /** A path as a URI reference, or null when it is none (then the member is left out). */
    private static URI reference(String path) {
        if (path == null || path.isEmpty()) {
            return null;
        }
        try {
            return new URI(path);
        } catch (URISyntaxException notAReference) {
            return null;
        }
    }

    /** The JSON text of a problem. */
    public static String json(ProblemDetail problem) {
        try {
            return JSON.writeValueAsString(problem);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a ProblemDetail always serialises", e);
        }
    }

    /** Writes {@code error} for {@code request}'s path as the whole answer, with {@code status}. */
    public static void write(HttpServletRequest request, HttpServletResponse response, int status, ApiError error)
            throws IOException {
        write(response, problem(status, error, instance(request)));
    }

    /** Writes {@code problem} as the whole answer, with its status; headers set before are kept. */
    public static void write(HttpServletResponse response, ProblemDetail problem) throws IOException {
        if (response.isCommitted()) {
            return; // an answer has begun; nothing more can be said
        }
        String text = json(problem);
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        response.resetBuffer();
        response.setStatus(problem.getStatus());
        response.setContentType(PROBLEM_JSON);
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.setContentLength(body.length);
        try {
            response.getOutputStream().write(body);
        } catch (IllegalStateException writerInUse) {
            response.getWriter().write(text);
        }
        response.flushBuffer();
    }
}
