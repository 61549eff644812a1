package io.vectorsync.api;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;

/**
 * Tomcat's error report for what never reaches the application (a malformed URI, a refused method such
 * as TRACE): problem details with a {@code VSYNC-} code instead of Tomcat's HTML page, in the same form as
 * every other error ({@link ApiErrors}; Tomcat's reporter writer is used because the application's output
 * stream may be in an unknown state here). No {@code instance}: the request line may be what was malformed.
 */
public class JsonErrorReportValve extends ErrorReportValve {

    public JsonErrorReportValve() {
        setShowReport(false);
        setShowServerInfo(false);
    }

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        String body = ApiErrors.json(ApiErrors.problem(status, ApiErrors.forStatus(status), null));
        try {
            response.setContentType(ApiErrors.PROBLEM_JSON);
            response.setCharacterEncoding(StandardCharsets.UTF_8.name());
            Writer w = response.getReporter();
            if (w != null) {
                w.write(body);
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException ex) {
            // The client went away; nothing more to say.
        }
    }
}
