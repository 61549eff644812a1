package io.vectorsync.backend.qdrant;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The oldest Qdrant the backend runs against, and the check of a server's version string ({@code GET /}
 * answers {@code {"title": …, "version": "1.19.0"}}). 1.16 added {@code update_filter} to point upserts,
 * which the version guard puts on every write.
 */
public final class QdrantVersion {

    public static final String CODE = "VSYNC-BACKEND-VERSION";
    static final int[] MINIMUM = {1, 16, 0};
    private static final Pattern VERSION = Pattern.compile("^v?(\\d+)\\.(\\d+)(?:\\.(\\d+))?(?:[-+].*)?$");

    private QdrantVersion() {}

    /**
     * {@code null} when {@code version} is at least {@link #MINIMUM}, otherwise the error to report (also
     * when it is not a version at all): the backend must not write to such a server.
     */
    public static String problem(String backend, String url, String version) {
        Matcher m = VERSION.matcher(version == null ? "" : version.trim());
        if (!m.matches()) {
            return CODE + ": backend '" + backend + "': Qdrant at " + url + " did not report a version (GET /"
                    + " answered version '" + version + "'); vectorsync needs Qdrant " + minimum() + " or newer";
        }
        int[] have = {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
            m.group(3) == null ? 0 : Integer.parseInt(m.group(3))};
        if (compare(have, MINIMUM) < 0) {
            return CODE + ": backend '" + backend + "': Qdrant at " + url + " is " + version + "; vectorsync needs "
                    + minimum() + " or newer (the version guard uses update_filter on upserts). Upgrade Qdrant;"
                    + " nothing was written.";
        }
        return null;
    }

    static String minimum() {
        return MINIMUM[0] + "." + MINIMUM[1] + "." + MINIMUM[2];
    }

    private static int compare(int[] a, int[] b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b[i]) {
                return Integer.compare(a[i], b[i]);
            }
        }
        return 0;
    }
}
