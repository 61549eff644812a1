package io.vectorsync.api;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.servlet.error.ErrorController;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Replaces Spring Boot's whitelabel {@code /error}: failures that never reach a controller (rejected by
 * Tomcat or a filter, e.g. a malformed URI) still answer as problem details with a {@code VSYNC-} code,
 * written by {@link ApiErrors}. A direct request to {@code /error} is a 404.
 */
@RestController
public class ApiErrorController implements ErrorController {

    private static final Logger log = LoggerFactory.getLogger(ApiErrorController.class);

    @RequestMapping("/error")
    public void error(HttpServletRequest request, HttpServletResponse response) throws IOException {
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
        // A malformed request (400, 414, 431): its path may be what was wrong, so it is not echoed.
        boolean malformed = status == 400 || status == 414 || status == 431;
        ApiErrors.write(response, ApiErrors.problem(status, ApiErrors.forStatus(status),
                malformed ? null : ApiErrors.instance(request)));
    }
}
