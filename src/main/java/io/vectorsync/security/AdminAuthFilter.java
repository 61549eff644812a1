package io.vectorsync.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.api.ApiError;
import io.vectorsync.config.AdminAuthProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Guards the admin API (and Jolokia/Hawtio paths, should they be added): a request passes only with
 * {@code Authorization: Bearer <vectorsync.admin.token>} or HTTP basic {@code vectorsync.admin.username}
 * and {@code password}. Secrets are compared in constant time (over SHA-256 digests, so the length does
 * not leak either). With no credential configured every admin call is refused with
 * {@code VSYNC-AUTH-NOT-CONFIGURED}; there is no default password. The ingest API and
 * {@code /actuator/health} are not guarded here.
 */
public class AdminAuthFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(AdminAuthFilter.class);

    /** Path prefixes that need the admin credentials. */
    static final List<String> PROTECTED = List.of("/admin", "/jolokia", "/hawtio", "/actuator/jolokia",
            "/actuator/hawtio");

    private final AdminAuthProperties props;
    private final ObjectMapper json;
    private final byte[] tokenDigest;
    private final byte[] userDigest;
    private final byte[] passwordDigest;

    public AdminAuthFilter(AdminAuthProperties props, ObjectMapper json) {
        this.props = props;
        this.json = json;
        this.tokenDigest = props.tokenConfigured() ? sha256(props.token()) : null;
        this.userDigest = props.basicConfigured() ? sha256(props.username()) : null;
        this.passwordDigest = props.basicConfigured() ? sha256(props.password()) : null;
        if (!props.tokenConfigured() && !props.basicConfigured()) {
            log.warn("VSYNC-AUTH-NOT-CONFIGURED: no admin credential is configured; the admin API refuses every"
                    + " call. Set vectorsync.admin.token (or vectorsync.admin.username and password).");
        }
    }

    /** True when the request's path (however spelled: doubled slashes, ;params, any case) is an admin path. */
    static boolean isProtected(HttpServletRequest request) {
        if (plainlyUnprotected(request)) {
            return false; // the ingest API's hot path: no regular expressions per request
        }
        String servletPath = normalize(request.getServletPath() + (request.getPathInfo() == null ? ""
                : request.getPathInfo()));
        String uri = normalize(request.getRequestURI());
        for (String p : PROTECTED) {
            if (matches(servletPath, p) || matches(uri, p)) {
                return true;
            }
        }
        return false;
    }

    /**
     * True when no spelling of the path can name a protected prefix: none of their words appears in it,
     * in any case, and it has no escape or separator that normalising could turn into one.
     */
    private static boolean plainlyUnprotected(HttpServletRequest request) {
        String raw = (request.getRequestURI() + '|' + request.getServletPath() + '|' + request.getPathInfo())
                .toLowerCase(Locale.ROOT);
        if (raw.indexOf('%') >= 0 || raw.indexOf('\\') >= 0) {
            return false;
        }
        for (String p : PROTECTED) {
            if (raw.contains(p.substring(p.lastIndexOf('/') + 1))) {
                return false;
            }
        }
        return true;
    }

    private static boolean matches(String path, String prefix) {
        return path.equals(prefix) || path.startsWith(prefix + "/");
    }

    private static String normalize(String path) {
        if (path == null) {
            return "";
        }
        String p = path.toLowerCase(Locale.ROOT).replace("%2f", "/").replace("%5c", "/").replace('\\', '/')
                .replaceAll(";[^/]*", "").replaceAll("/{2,}", "/");
        return p.startsWith("/") ? p : "/" + p;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !isProtected(request);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!props.tokenConfigured() && !props.basicConfigured()) {
            refuse(response, new ApiError("VSYNC-AUTH-NOT-CONFIGURED", "The admin API is disabled until a"
                    + " credential is configured: set vectorsync.admin.token (sent as 'Authorization: Bearer"
                    + " <token>') or vectorsync.admin.username and vectorsync.admin.password (HTTP basic).",
                    "Authorization", "a configured admin credential"));
            return;
        }
        String header = request.getHeader("Authorization");
        if (header == null || header.isBlank()) {
            refuse(response, new ApiError("VSYNC-AUTH-REQUIRED", "The admin API needs credentials.",
                    "Authorization", expected()));
            return;
        }
        if (authorised(header.trim())) {
            chain.doFilter(request, response);
            return;
        }
        refuse(response, new ApiError("VSYNC-AUTH-INVALID", "The admin credentials are wrong or malformed.",
                "Authorization", expected()));
    }

    private String expected() {
        if (props.tokenConfigured() && props.basicConfigured()) {
            return "Bearer <token> or Basic <base64 user:password>";
        }
        return props.tokenConfigured() ? "Bearer <token>" : "Basic <base64 user:password>";
    }

    private boolean authorised(String header) {
        int space = header.indexOf(' ');
        if (space <= 0) {
            return false;
        }
        String scheme = header.substring(0, space);
        String value = header.substring(space + 1).trim();
        if (scheme.equalsIgnoreCase("Bearer") && tokenDigest != null) {
            return MessageDigest.isEqual(tokenDigest, sha256(value));
        }
        if (scheme.equalsIgnoreCase("Basic") && passwordDigest != null) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return false;
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                return false;
            }
            // Both compared, always, so the time does not tell which one was wrong.
            boolean user = MessageDigest.isEqual(userDigest, sha256(decoded.substring(0, colon)));
            boolean pass = MessageDigest.isEqual(passwordDigest, sha256(decoded.substring(colon + 1)));
            return user & pass;
        }
        return false;
    }

    private void refuse(HttpServletResponse response, ApiError error) throws IOException {
        response.setStatus(401);
        StringBuilder challenge = new StringBuilder();
        if (props.tokenConfigured() || !props.basicConfigured()) {
            challenge.append("Bearer realm=\"vectorsync-admin\"");
        }
        if (props.basicConfigured()) {
            response.addHeader("WWW-Authenticate", "Basic realm=\"vectorsync-admin\", charset=\"UTF-8\"");
        }
        if (!challenge.isEmpty()) {
            response.addHeader("WWW-Authenticate", challenge.toString());
        }
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        json.writeValue(response.getOutputStream(), error);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
