package io.vectorsync.security;

import io.vectorsync.api.ApiError;
import io.vectorsync.api.ApiErrors;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;

/**
 * The refusal of a guarded path, a 401 with the challenges of the configured schemes and problem details
 * written by {@link ApiErrors}: {@code VSYNC-AUTH-NOT-CONFIGURED} when no credential is
 * configured, {@code VSYNC-AUTH-REQUIRED} when the request has no {@code Authorization} header,
 * {@code VSYNC-AUTH-INVALID} when it has one that is wrong or malformed (a wrong secret, an unknown scheme,
 * bad base64).
 */
public class AdminAuthEntryPoint implements AuthenticationEntryPoint {

    private final AdminAuthenticationProvider credentials;

    public AdminAuthEntryPoint(AdminAuthenticationProvider credentials) {
        this.credentials = credentials;
    }

    @Override
    public void commence(HttpServletRequest request, HttpServletResponse response, AuthenticationException e)
            throws IOException {
        if (credentials.basicConfigured()) {
            response.addHeader("WWW-Authenticate", "Basic realm=\"vectorsync-admin\", charset=\"UTF-8\"");
        }
        if (credentials.tokenConfigured() || !credentials.basicConfigured()) {
            response.addHeader("WWW-Authenticate", "Bearer realm=\"vectorsync-admin\"");
        }
        ApiErrors.write(request, response, 401, error(request.getHeader("Authorization")));
    }

    private ApiError error(String authorization) {
        if (!credentials.configured()) {
            return new ApiError("VSYNC-AUTH-NOT-CONFIGURED", "The admin API is disabled until a credential is"
                    + " configured: set vectorsync.admin.token (sent as 'Authorization: Bearer <token>') or"
                    + " vectorsync.admin.username and vectorsync.admin.password (HTTP basic).", "Authorization",
                    "a configured admin credential");
        }
        if (authorization == null || authorization.isBlank()) {
            return new ApiError("VSYNC-AUTH-REQUIRED", "The admin API needs credentials.", "Authorization",
                    expected());
        }
        return new ApiError("VSYNC-AUTH-INVALID", "The admin credentials are wrong or malformed.", "Authorization",
                expected());
    }

    private String expected() {
        if (credentials.tokenConfigured() && credentials.basicConfigured()) {
            return "Bearer <token> or Basic <base64 user:password>";
        }
        return credentials.tokenConfigured() ? "Bearer <token>" : "Basic <base64 user:password>";
    }
}
