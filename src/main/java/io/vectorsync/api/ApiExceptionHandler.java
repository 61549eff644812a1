package io.vectorsync.api;

import io.vectorsync.capture.CaptureException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.ConversionNotSupportedException;
import org.springframework.beans.TypeMismatchException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.security.web.firewall.RequestRejectedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.ServletRequestBindingException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Turns every failure of a controller (and of the ingest fast path, {@link ChunkPutFilter}) into problem
 * details with a {@code VSYNC-} code, written by {@link ApiErrors}, the one error writer; never echoes
 * bodies. What Spring MVC already knows (405, 406, 415, 404 of no handler, unreadable bodies, missing or
 * mistyped parameters) comes through {@link ResponseEntityExceptionHandler}, which picks the status and the
 * headers ({@code Allow}, {@code Accept}); {@link #handleExceptionInternal} gives it a code and writes it the
 * same way, without content negotiation, so a client that accepts no JSON still reads why it was refused.
 */
@RestControllerAdvice
public class ApiExceptionHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);

    @ExceptionHandler(CaptureException.class)
    void capture(CaptureException e, HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (e.retryAfterSeconds() > 0) {
            response.setHeader(HttpHeaders.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
        }
        ApiErrors.write(request, response, e.status(), new ApiError(e.code(), e.getMessage(), e.field(),
                e.expected()));
    }

    /** Bad input found below the controllers (e.g. a parse of a parameter's text). */
    @ExceptionHandler(IllegalArgumentException.class)
    void badArgument(IllegalArgumentException e, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        ApiErrors.write(request, response, 400, badParameter());
    }

    /** A header or parameter the request firewall refuses, first read inside a handler. */
    @ExceptionHandler(RequestRejectedException.class)
    void rejected(RequestRejectedException e, HttpServletResponse response) throws IOException {
        ApiErrors.write(response, ApiErrors.problem(400, ApiErrors.requestRejected(), null));
    }

    @ExceptionHandler(Exception.class)
    void internal(Exception e, HttpServletRequest request, HttpServletResponse response) throws IOException {
        log.error("VSYNC-INTERNAL: request failed ({})", e.getClass().getName(), e);
        ApiErrors.write(request, response, 500, ApiErrors.internal());
    }

    /**
     * Every exception {@link ResponseEntityExceptionHandler} knows ends here with its status and headers:
     * written as problem details at once (so nothing is negotiated), and nothing returned.
     */
    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception ex, Object body, HttpHeaders headers,
            HttpStatusCode statusCode, WebRequest request) {
        if (!(request instanceof ServletWebRequest web) || web.getResponse() == null) {
            return super.handleExceptionInternal(ex, body, headers, statusCode, request);
        }
        HttpServletResponse response = web.getResponse();
        int status = statusCode.value();
        ApiError error = known(ex);
        if (error == null) {
            error = ApiErrors.forStatus(status);
        } else if (ex instanceof ServletRequestBindingException) {
            status = 400; // a missing path variable too: the request's fault here, as before
        }
        if (status >= 500) {
            log.error("VSYNC-INTERNAL: request failed ({})", ex.getClass().getName(), ex);
        }
        headers.forEach((name, values) -> values.forEach(v -> response.addHeader(name, v)));
        try {
            ApiErrors.write(web.getRequest(), response, status, error);
        } catch (IOException clientGone) {
            log.debug("the error answer could not be written ({})", clientGone.getClass().getSimpleName());
        }
        return null;
    }

    /** The error of a Spring MVC exception that says more than its status, or null. */
    private static ApiError known(Exception ex) {
        if (ex instanceof HttpRequestMethodNotSupportedException e) {
            return new ApiError("VSYNC-METHOD-NOT-ALLOWED", "This path does not take " + e.getMethod() + ".", null,
                    String.valueOf(e.getSupportedHttpMethods()));
        }
        if (ex instanceof MissingServletRequestParameterException e) {
            return new ApiError("VSYNC-BAD-REQUEST", "A required query parameter is missing.", e.getParameterName(),
                    e.getParameterType());
        }
        if (ex instanceof ServletRequestBindingException
                || (ex instanceof TypeMismatchException && !(ex instanceof ConversionNotSupportedException))) {
            return badParameter();
        }
        if (ex instanceof HttpMessageNotReadableException) {
            return new ApiError("VSYNC-MALFORMED-JSON", "The request body is not readable as the JSON this path"
                    + " takes.", "body", "a JSON object");
        }
        return null;
    }

    private static ApiError badParameter() {
        return new ApiError("VSYNC-BAD-REQUEST", "A parameter is missing or has the wrong type.", null, null);
    }
}
