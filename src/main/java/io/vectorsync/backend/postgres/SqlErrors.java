package io.vectorsync.backend.postgres;

import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Classifies JDBC failures as transient or permanent by SQLSTATE and exception type, and describes
 * them without values: PostgreSQL's detail ("Failing row contains ...") and some messages quote row
 * contents, so only the state, the condition and object names are kept.
 */
public final class SqlErrors {

    private SqlErrors() {}

    public static boolean isTransient(Throwable t) {
        for (Throwable c = t; c != null; c = next(c)) {
            if (c instanceof SQLTransientException || c instanceof SQLRecoverableException
                    || c instanceof ConnectException || c instanceof SocketTimeoutException
                    || c instanceof java.io.EOFException || c instanceof java.net.SocketException) {
                return true;
            }
            if (c instanceof SQLException s && s.getSQLState() != null) {
                String state = s.getSQLState();
                if (state.startsWith("08") // connection exception
                        || state.equals("40001") || state.equals("40P01") // serialization failure, deadlock
                        || state.startsWith("53") // insufficient resources
                        || state.startsWith("57") // operator intervention: shutdown, cancel, timeout
                        || state.equals("55P03") // lock not available
                        || state.startsWith("58")) { // system error (I/O)
                    return true;
                }
                return false;
            }
        }
        return false;
    }

    /** True when no connection to the server could be opened (refused, unreachable, pool starved). */
    public static boolean isUnreachable(Throwable t) {
        for (Throwable c = t; c != null; c = next(c)) {
            if (c instanceof ConnectException || c instanceof java.net.NoRouteToHostException
                    || c instanceof java.net.UnknownHostException
                    || c instanceof java.sql.SQLTransientConnectionException) {
                return true;
            }
            if (c instanceof SQLException s && ("08001".equals(s.getSQLState()) || "08004".equals(s.getSQLState()))) {
                return true;
            }
        }
        return false;
    }

    /** A one-line description that names the SQLSTATE and objects but never row values. */
    public static String describe(Throwable t) {
        // The server's message may sit below a driver wrapper (a batch's BatchUpdateException carries
        // only the SQLSTATE, the server error is its next exception or cause), so look for it through
        // the whole chain before settling for a bare state.
        for (Throwable c = t; c != null; c = next(c)) {
            if (c instanceof PSQLException p && p.getServerErrorMessage() != null) {
                ServerErrorMessage m = p.getServerErrorMessage();
                StringBuilder sb = new StringBuilder("SQLSTATE ").append(m.getSQLState());
                if (m.getTable() != null) {
                    sb.append(" table=").append(m.getTable());
                }
                if (m.getColumn() != null) {
                    sb.append(" column=").append(m.getColumn());
                }
                if (m.getConstraint() != null) {
                    sb.append(" constraint=").append(m.getConstraint());
                }
                if (m.getDatatype() != null) {
                    sb.append(" type=").append(m.getDatatype());
                }
                return sb.toString();
            }
        }
        for (Throwable c = t; c != null; c = next(c)) {
            if (c instanceof SQLException s && s.getSQLState() != null) {
                return "SQLSTATE " + s.getSQLState() + " (" + c.getClass().getSimpleName() + ")";
            }
            if (c instanceof java.io.IOException) {
                return c.getClass().getSimpleName();
            }
        }
        return t.getClass().getSimpleName();
    }

    /** The next link: a batch's next exception (the server's own error) first, then the cause. */
    private static Throwable next(Throwable c) {
        if (c instanceof SQLException s && s.getNextException() != null && s.getNextException() != c) {
            return s.getNextException();
        }
        return c.getCause() == c ? null : c.getCause();
    }
}
