package io.vectorsync.api;

import io.vectorsync.capture.CaptureException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.web.firewall.RequestRejectedException;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MissingRequestHeaderException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.ServletRequestBindingException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * Turns every failure into a JSON {@link ApiError} with a {@code VSYNC-} code, written by {@link ApiErrors}
 * (the one error writer); never echoes bodies.
 */
@RestControllerAdvice
public class ApiExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);

    @ExceptionHandler(CaptureException.class)
    void capture(CaptureException e, HttpServletResponse response) throws IOException {
        ApiErrors.write(response, e.status(), new ApiError(e.code(), e.getMessage(), e.field(), e.expected()));
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    void mediaType(HttpMediaTypeNotSupportedException e, HttpServletResponse response) throws IOException {
        ApiErrors.write(response, 415, ApiErrors.forStatus(415));
    }

    @ExceptionHandler(HttpMediaTypeNotAcceptableException.class)
    void notAcceptable(HttpMediaTypeNotAcceptableException e, HttpServletResponse response) throws IOException {
        ApiErrors.write(response, 406, ApiErrors.forStatus(406));
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    void method(HttpRequestMethodNotSupportedException e, HttpServletResponse response) throws IOException {
        ApiErrors.write(response, 405, new ApiError("VSYNC-METHOD-NOT-ALLOWED",
                "This path does not take " + e.getMethod() + ".", null, String.valueOf(e.getSupportedHttpMethods())));
    }

    @ExceptionHandler(NoResourceFoundException.class)
    void noResource(NoResourceFoundException e, HttpServletResponse response) throws IOException {
        ApiErrors.write(response, 404, ApiErrors.forStatus(404));
    }

    @ExceptionHandler(MissingServletRequestParameterException.class)
    void missingParameter(MissingServletRequestParameterException e, HttpServletResponse response)
            throws IOException {
        ApiErrors.write(response, 400, new ApiError("VSYNC-BAD-REQUEST", "A required query parameter is missing.",
                e.getParameterName(), e.getParameterType()));
    }

    @ExceptionHandler({MethodArgumentTypeMismatchException.class, MissingRequestHeaderException.class,
            ServletRequestBindingException.class, IllegalArgumentException.class})
    void badArgument(Exception e, HttpServletResponse response) throws IOException {
        ApiErrors.write(response, 400, new ApiError("VSYNC-BAD-REQUEST",
                "A parameter is missing or has the wrong type.", null, null));
    }

    @ExceptionHandler(Exception.class)
    void internal(Exception e, HttpServletResponse response) throws IOException {
        log.error("VSYNC-INTERNAL: request failed ({})", e.getClass().getName(), e);
        ApiErrors.write(response, 500, ApiErrors.internal());
    }

    /** A header or parameter the request firewall refuses, first read inside a handler. */
    @ExceptionHandler(RequestRejectedException.class)
    void rejected(RequestRejectedException e, HttpServletResponse response) throws IOException {
        ApiErrors.write(response, 400, ApiErrors.requestRejected());
    }
}
