package io.vectorsync.backend;

import io.vectorsync.config.VectorsyncProperties;

/** Creates backends of one {@code type}; a Spring bean per type makes the type available. */
public interface BackendFactory {

    /** The value of {@code vectorsync.backends.<name>.type} this factory serves, e.g. {@code postgres}. */
    String type();

    Backend create(String name, VectorsyncProperties.Backend config);
}
