package io.pgrelay.testkit.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The corpus comes from the classpath and is scored as its README says. */
class CorpusTest {
    @Test
    void thePublishedCorpusIsOnTheClasspath() {
        List<Corpus.Statement> labels = Corpus.labels();
        assertThat(labels).hasSize(346);
        assertThat(labels).extracting(Corpus.Statement::id).doesNotHaveDuplicates();
        assertThat(labels).anySatisfy(s -> assertThat(s.setup()).isNotNull());
        assertThat(Corpus.schemaSql()).contains("\\set ON_ERROR_STOP on").contains("CREATE TABLE");
    }

    @Test
    void mustPrimaryAndOffloadableFollowTheReadme() {
        List<Corpus.Statement> items = Corpus.parse("""
                {"id":"w","sql":"DELETE FROM t","label":"write"}
                {"id":"local","sql":"SELECT pg_advisory_lock(1)","label":"read","server_local":true}
                {"id":"xid","sql":"SELECT f()","label":"read","primary_assigned_xid":true}
                {"id":"state","sql":"SET a = 1","label":"read","session_state":true}

                {"id":"r","sql":"SELECT 1","label":"read","setup":"BEGIN"}
                """);
        assertThat(items).extracting(Corpus.Statement::id).containsExactly("w", "local", "xid", "state", "r");
        assertThat(items).extracting(Corpus.Statement::mustPrimary).containsExactly(true, true, true, false, false);
        assertThat(items).extracting(Corpus.Statement::offloadable).containsExactly(false, false, false, false, true);
        assertThat(items.get(4).setup()).isEqualTo("BEGIN");

        Corpus.Score everythingToReplicas = Corpus.score(items, s -> new Corpus.Routed(true, "REPLICA"));
        assertThat(everythingToReplicas.unsafe()).isEqualTo(3);
        assertThat(everythingToReplicas.unsafeItems()).first().asString().startsWith("w -> REPLICA: DELETE FROM t");
        assertThat(everythingToReplicas.offloadRate()).isEqualTo(1.0);

        Corpus.Score everythingToPrimary = Corpus.score(items, s -> new Corpus.Routed(false, "PRIMARY"));
        assertThat(everythingToPrimary.unsafe()).isZero();
        assertThat(everythingToPrimary.offloadRate()).isZero();
        assertThat(everythingToPrimary.missedReads()).containsExactly("r -> PRIMARY: SELECT 1");
        assertThat(everythingToPrimary.summary("all primary")).contains("3 must-primary statements, 0 unsafe misroutes")
                .contains("0 of 1 offloadable reads");
    }
}
