package io.vectorsync;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** vectorsync: a transactional outbox relay that keeps secondary vector stores in step with the primary. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class VectorsyncApplication {

    public static void main(String[] args) {
        SpringApplication.run(VectorsyncApplication.class, args);
    }
}
