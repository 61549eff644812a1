package io.vectorsync.backend.qdrant;

/** The backend contract for Qdrant with {@code delete-mode: hard} (the default). */
class QdrantContractIT extends QdrantContractBase {

    @Override
    String deleteMode() {
        return "hard";
    }
}
