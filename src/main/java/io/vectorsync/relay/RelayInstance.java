package io.vectorsync.relay;

import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VectorsyncProperties;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.util.UUID;
import org.springframework.stereotype.Component;

/** This process's identity as a lease owner: {@code vectorsync.instance-id}, or host, pid and a nonce. */
@Component
@ServerOnly
public class RelayInstance {

    private final String id;

    public RelayInstance(VectorsyncProperties properties) {
        if (!properties.instanceId().isBlank()) {
            this.id = properties.instanceId();
        } else {
            String host;
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (Exception e) {
                host = "unknown";
            }
            this.id = host + "-" + ManagementFactory.getRuntimeMXBean().getPid() + "-"
                    + UUID.randomUUID().toString().substring(0, 8);
        }
    }

    public String id() {
        return id;
    }
}
