package io.vectorsync.jobs;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the admin endpoints that start verify and backfill want of an enqueue: a request while a run is
 * pending or processing joins it (as before), but after a run that COMPLETED a new one starts, although
 * the queue would return the completed job for {@code completed-window} (right for clients that retry a
 * request, wrong for an operator who asks again). The new run's correlation adds {@code after} = the
 * completed job's id, so two operators asking at once still share one new run.
 */
public final class OperatorRuns {

    /** Enough for any chain of runs completed within the window. */
    static final int MAX_STEPS = 20;

    private OperatorRuns() {}

    public static Enqueued start(JobSubmission submission, JobRequest request) {
        Enqueued e = submission.submit(request);
        for (int step = 0; step < MAX_STEPS && !e.created() && !e.job().status().active(); step++) {
            Map<String, String> correlation = new LinkedHashMap<>(request.correlation());
            correlation.put("after", e.job().id());
            e = submission.submit(new JobRequest(request.type(), correlation, request.payload(), request.runAt(),
                    request.priority(), request.idempotencyKey()));
        }
        return e;
    }
}
