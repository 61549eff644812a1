package io.vectorsync.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.BatchUpdateException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

class SqlErrorsTest {

    @Test
    void aBatchFailureIsDescribedByTheServerMessageBelowTheDriverWrapperWithoutRowValues() {
        PSQLException server = new PSQLException(new ServerErrorMessage(
                "SERROR\0C23514\0Mnew row violates check constraint\0Dfailing row contains (secret)\0"
                        + "treplica_chunks\0nno_poison\0"));
        // As pgjdbc reports a failed executeBatch(): the SQLSTATE only, with the statement's values in the text.
        BatchUpdateException batch = new BatchUpdateException("Batch entry 0 INSERT ... ('secret') was aborted",
                "23514", 0, new long[0], server);
        batch.setNextException(server);

        String d = SqlErrors.describe(new RuntimeException(batch));
        assertThat(d).isEqualTo("SQLSTATE 23514 table=replica_chunks constraint=no_poison");
        assertThat(SqlErrors.isTransient(batch)).isFalse();
    }
}
