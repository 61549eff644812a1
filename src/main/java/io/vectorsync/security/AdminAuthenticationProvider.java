package io.vectorsync.security;

import io.vectorsync.config.AdminAuthProperties;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.web.authentication.preauth.PreAuthenticatedAuthenticationToken;

/**
 * Checks the admin credential ({@code vectorsync.admin.*}): HTTP basic {@code username}/{@code password}
 * (a {@link UsernamePasswordAuthenticationToken} from Spring Security's basic filter) or the bearer
 * {@code token} (a {@link PreAuthenticatedAuthenticationToken} from {@link SecurityConfig}'s bearer filter).
 * Secrets are compared in constant time over SHA-256 digests, so neither the content nor the length leaks,
 * and for basic both the user and the password are always compared. There is no default credential: with
 * none configured every call is refused ({@code VSYNC-AUTH-NOT-CONFIGURED}, {@link AdminAuthEntryPoint}).
 */
public class AdminAuthenticationProvider implements AuthenticationProvider {

    private static final Logger log = LoggerFactory.getLogger(AdminAuthenticationProvider.class);

    /** The one authority an authenticated operator has. */
    static final List<GrantedAuthority> ADMIN = List.of(new SimpleGrantedAuthority("ROLE_ADMIN"));

    /** The principal's name of a bearer-token call. */
    static final String TOKEN_PRINCIPAL = "admin-token";

    private final AdminAuthProperties props;
    private final byte[] tokenDigest;
    private final byte[] userDigest;
    private final byte[] passwordDigest;

    public AdminAuthenticationProvider(AdminAuthProperties props) {
        this.props = props;
        this.tokenDigest = props.tokenConfigured() ? sha256(props.token()) : null;
        this.userDigest = props.basicConfigured() ? sha256(props.username()) : null;
        this.passwordDigest = props.basicConfigured() ? sha256(props.password()) : null;
        if (!configured()) {
            log.warn("VSYNC-AUTH-NOT-CONFIGURED: no admin credential is configured; the admin API, Jolokia, Hawtio"
                    + " and the guarded actuator endpoints refuse every call. Set vectorsync.admin.token (or"
                    + " vectorsync.admin.username and password).");
        }
    }

    /** True when a token or a basic user and password is configured. */
    public boolean configured() {
        return props.tokenConfigured() || props.basicConfigured();
    }

    public boolean tokenConfigured() {
        return props.tokenConfigured();
    }

    public boolean basicConfigured() {
        return props.basicConfigured();
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        Object credentials = authentication.getCredentials();
        String secret = credentials == null ? "" : credentials.toString();
        if (authentication instanceof PreAuthenticatedAuthenticationToken) {
            if (tokenDigest != null && MessageDigest.isEqual(tokenDigest, sha256(secret))) {
                return new PreAuthenticatedAuthenticationToken(TOKEN_PRINCIPAL, null, ADMIN);
            }
            throw new BadCredentialsException("wrong admin token");
        }
        if (passwordDigest != null) {
            String name = authentication.getName() == null ? "" : authentication.getName();
            // Both compared, always, so the time does not tell which one was wrong.
            boolean user = MessageDigest.isEqual(userDigest, sha256(name));
            boolean pass = MessageDigest.isEqual(passwordDigest, sha256(secret));
            if (user & pass) {
                return UsernamePasswordAuthenticationToken.authenticated(name, null, ADMIN);
            }
        }
        throw new BadCredentialsException("wrong admin user or password");
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return UsernamePasswordAuthenticationToken.class.isAssignableFrom(authentication)
                || PreAuthenticatedAuthenticationToken.class.isAssignableFrom(authentication);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
