package io.vectorsync.api;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.servlet.error.ErrorController;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Replaces Spring Boot's whitelabel {@code /error}: failures that never reach a controller (rejected by
 * Tomcat or a filter, e.g. a malformed URI) still answer with a JSON {@link ApiError} and a {@code VSYNC-}
 * code. A direct request to {@code /error} is a 404.
 */
@RestController
public class ApiErrorController implements ErrorController {

    private static final Logger log = LoggerFactory.getLogger(ApiErrorController.class);

    @RequestMapping("/error")
    public ResponseEntity<ApiError> error(HttpServletRequest request) {
        Object s = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        int status = s instanceof Integer i ? i : 404;
        if (status < 400 || status > 599) {
            status = 500;
        }
        if (status >= 500) {
            Object ex = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
            log.error("VSYNC-INTERNAL: request failed outside the controllers ({})",
                    ex == null ? "status " + status : ex.getClass().getName(), ex instanceof Throwable t ? t : null);
        }
        return ApiExceptionHandler.error(status, body(status));
    }

    static ApiError body(int status) {
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
                    : new ApiError("VSYNC-INTERNAL", "The request failed inside vectorsync; nothing was written"
                            + " unless a success was returned. Retry, and report it if it persists.", null, null);
        };
    }
}
