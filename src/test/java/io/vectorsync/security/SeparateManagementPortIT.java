package io.vectorsync.security;

import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.AdminSurface;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;

/**
 * Issue 12, item 9: with the actuator on its own port ({@code management.server.port}), Jolokia, Hawtio and every actuator endpoint but health and Prometheus need the admin
 * credentials there, and the admin API on the main port does too.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0", "management.server.address=127.0.0.1", "vectorsync.admin.username=ops",
        "vectorsync.admin.password=pa:ss"})
@AutoConfigureObservability(tracing = false) // the Prometheus endpoint exists, as in production
class SeparateManagementPortIT extends AbstractIT {

    @Value("${local.server.port}")
    int port;

    @LocalManagementPort
    int managementPort;

    @Test
    void everyGuardedPathOnASeparateManagementPortNeedsTheAdminCredentials() {
        AdminSurface.assertWholeSurface(port, managementPort, "/actuator", AdminSurface.bearer(ADMIN_TOKEN));
    }

    @Test
    void httpBasicCredentialsPassOnBothPortsAsWellAsTheToken() {
        AdminSurface.assertGuarded(managementPort, "GET", "/actuator/jolokia/version", null,
                AdminSurface.basic("ops", "pa:ss"));
        AdminSurface.assertGuarded(managementPort, "GET", "/actuator/hawtio/", null, AdminSurface.basic("ops", "pa:ss"));
        AdminSurface.assertGuarded(port, "GET", "/admin/v1/status", null, AdminSurface.basic("ops", "pa:ss"));
    }
}
