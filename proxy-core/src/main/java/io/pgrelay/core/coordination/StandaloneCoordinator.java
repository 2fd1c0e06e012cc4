package io.pgrelay.core.coordination;

import java.util.List;

/** No coordination: the cluster of instances is this one alone. */
final class StandaloneCoordinator implements Coordinator {
    private volatile ProxyMember self;

    @Override
    public void start(ProxyMember self) {
        this.self = self;
    }

    @Override
    public Membership membership() {
        ProxyMember member = self;
        return new Membership(Membership.Mode.STANDALONE, member == null ? null : member.id(),
                member == null ? List.of() : List.of(member));
    }

    @Override
    public void bind(RecordKeeper keeper) {
        // alone, the instance's own view is the record
    }

    @Override
    public QuorumRule.Verdict primaryDown(String primary) {
        return new QuorumRule.Verdict(true, 1, 1);
    }

    @Override
    public String holdWritesForPromotion() {
        return "no other pgrelay instance";
    }

    @Override
    public void releaseWrites() {
        // nothing was held
    }

    @Override
    public void reinstatePrimary(String primary) {
        // no record: the topology names the primary
    }

    @Override
    public ClusterRecord clusterRecord() {
        return null;
    }

    @Override
    public Leadership leadership() {
        return Leadership.alone(self);
    }

    @Override
    public void close() {
        // nothing registered anywhere
    }
}
