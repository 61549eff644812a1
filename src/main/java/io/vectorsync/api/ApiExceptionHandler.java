package io.vectorsync.api;

import io.vectorsync.capture.CaptureException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
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

/** Turns every failure into a JSON {@link ApiError} with a {@code VSYNC-} code; never echoes bodies. */
@RestControllerAdvice
public class ApiExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);

    @ExceptionHandler(CaptureException.class)
    ResponseEntity<ApiError> capture(CaptureException e) {
        return error(e.status(), new ApiError(e.code(), e.getMessage(), e.field(), e.expected()));
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    ResponseEntity<ApiError> mediaType(HttpMediaTypeNotSupportedException e) {
        return error(415, new ApiError("VSYNC-UNSUPPORTED-MEDIA-TYPE", "Send the body as JSON.", "Content-Type",
                "application/json"));
    }

    @ExceptionHandler(HttpMediaTypeNotAcceptableException.class)
    ResponseEntity<ApiError> notAcceptable(HttpMediaTypeNotAcceptableException e) {
        return error(406, new ApiError("VSYNC-NOT-ACCEPTABLE", "This API answers in JSON.", "Accept",
                "application/json"));
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<ApiError> method(HttpRequestMethodNotSupportedException e) {
        return error(405, new ApiError("VSYNC-METHOD-NOT-ALLOWED", "This path does not take " + e.getMethod() + ".",
                null, String.valueOf(e.getSupportedHttpMethods())));
    }

    @ExceptionHandler(NoResourceFoundException.class)
    ResponseEntity<ApiError> noResource(NoResourceFoundException e) {
        return error(404, new ApiError("VSYNC-NOT-FOUND", "No such path.", null, null));
    }

    @ExceptionHandler(MissingServletRequestParameterException.class)
    ResponseEntity<ApiError> missingParameter(MissingServletRequestParameterException e) {
        return error(400, new ApiError("VSYNC-BAD-REQUEST", "A required query parameter is missing.",
                e.getParameterName(), e.getParameterType()));
    }

    @ExceptionHandler({MethodArgumentTypeMismatchException.class, MissingRequestHeaderException.class,
            ServletRequestBindingException.class, IllegalArgumentException.class})
    ResponseEntity<ApiError> badArgument(Exception e) {
        return error(400, new ApiError("VSYNC-BAD-REQUEST", "A parameter is missing or has the wrong type.", null,
                null));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ApiError> internal(Exception e) {
        log.error("VSYNC-INTERNAL: request failed ({})", e.getClass().getName(), e);
        return error(500, new ApiError("VSYNC-INTERNAL", "The request failed inside vectorsync; nothing was"
                + " written unless a success was returned. Retry, and report it if it persists.", null, null));
    }

    static ResponseEntity<ApiError> error(int status, ApiError body) {
        return ResponseEntity.status(HttpStatus.valueOf(status)).contentType(MediaType.APPLICATION_JSON).body(body);
    }
}
