package io.vectorsync.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Enumeration;
import org.springframework.http.MediaType;
import org.springframework.web.filter.ServerHttpObservationFilter;
import org.springframework.web.servlet.HandlerExceptionResolver;

/**
 * The ingest API's hot path, {@code PUT /api/v1/chunks/{chunkId}}, served without Spring MVC's dispatch
 * (handler lookup over every mapping with a path variable, argument resolution), which cost about a tenth
 * of the request's CPU at 500 requests/s. It is the last filter, so every other filter (the request firewall,
 * observation, encoding) runs as before; it calls the same {@link ChunkController#put} and hands any
 * failure to the same exception handlers ({@link ApiExceptionHandler}), so the answers are identical.
 *
 * <p>Only a plain request takes it: the path exactly {@code /api/v1/chunks/} and an id of unreserved or
 * sub-delimiter characters (nothing to decode or normalise), {@code Content-Type: application/json} (with
 * at most a UTF-8 charset), one {@code Accept} header that allows JSON without parameters ({@link #acceptsJson}),
 * at most one {@code If-Match}.
 * Anything else goes on to Spring MVC, which answers it as it always has (415, 406, 404, decoding).
 */
public class ChunkPutFilter extends HttpFilter {

    static final String PREFIX = "/api/v1/chunks/";
    /** The pattern Spring MVC would report, so the metrics' {@code uri} tag is the same on both paths. */
    static final String PATTERN = PREFIX + "{chunkId}";

    private final transient ChunkController controller;
    private final transient HandlerExceptionResolver exceptions;

    public ChunkPutFilter(ChunkController controller, HandlerExceptionResolver exceptions) {
        this.controller = controller;
        this.exceptions = exceptions;
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String chunkId = plainPutChunkId(request);
        if (chunkId == null) {
            chain.doFilter(request, response);
            return;
        }
        ServerHttpObservationFilter.findObservationContext(request).ifPresent(c -> c.setPathPattern(PATTERN));
        try {
            controller.put(chunkId, request.getHeader("If-Match"), request, response);
        } catch (Exception e) {
            if (exceptions.resolveException(request, response, null, e) == null) {
                throw new ServletException(e);
            }
        }
    }

    /** The chunk id when the request is a plain PUT of one chunk (see the class comment), else null. */
    static String plainPutChunkId(HttpServletRequest request) {
        if (!"PUT".equals(request.getMethod())) {
            return null;
        }
        String uri = request.getRequestURI();
        if (uri == null || !uri.startsWith(PREFIX) || !request.getContextPath().isEmpty()
                || !uri.equals(request.getServletPath()) || request.getPathInfo() != null) {
            return null; // decoded or normalised by Tomcat, or not under the root context
        }
        int n = uri.length();
        if (n == PREFIX.length()) {
            return null;
        }
        for (int i = PREFIX.length(); i < n; i++) {
            if (!plainIdChar(uri.charAt(i))) {
                return null;
            }
        }
        String id = uri.substring(PREFIX.length());
        if (id.equals(".") || id.equals("..")) {
            return null;
        }
        if (!jsonContentType(request.getContentType()) || !acceptsJson(request.getHeader("Accept"))) {
            return null;
        }
        if (repeated(request, "If-Match") || repeated(request, "Accept")) {
            return null; // Spring MVC reads every value of a repeated header; leave that to it
        }
        return id;
    }

    private static boolean repeated(HttpServletRequest request, String header) {
        Enumeration<String> values = request.getHeaders(header);
        if (values == null || !values.hasMoreElements()) {
            return false;
        }
        values.nextElement();
        return values.hasMoreElements();
    }

    /** RFC 3986 unreserved and sub-delimiters, ':' and '@': no '%', ';', '/', '?' or '#'. */
    private static boolean plainIdChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "-._~!$&'()*+,=:@".indexOf(c) >= 0;
    }

    private static boolean jsonContentType(String type) {
        return type != null && (type.equalsIgnoreCase("application/json")
                || type.equalsIgnoreCase("application/json;charset=UTF-8")
                || type.equalsIgnoreCase("application/json; charset=UTF-8"));
    }

    /**
     * True when Spring MVC would find JSON acceptable by the same reading: no Accept header, or one that
     * Spring's own {@link MediaType#parseMediaTypes} reads, without parameters (no q-values, left to
     * Spring), with a range {@link MediaType#isCompatibleWith compatible} with application/json.
     */
    static boolean acceptsJson(String accept) {
        if (accept == null) {
            return true;
        }
        try {
            boolean json = false;
            for (MediaType range : MediaType.parseMediaTypes(accept)) {
                if (!range.getParameters().isEmpty()) {
                    return false;
                }
                json |= range.isCompatibleWith(MediaType.APPLICATION_JSON);
            }
            return json;
        } catch (IllegalArgumentException malformed) { // Spring answers it (406)
            return false;
        }
    }
}
