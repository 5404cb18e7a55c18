using TorchSharp;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Moves each planned layer to its new mask in place, and back again on failure. A layer
/// with no mask yet gets a fresh hidden tensor (the kept originals); one that had a mask
/// reuses its hidden tensor. Old masks are disposed only when the step holds.
/// </summary>
internal sealed class MaskExchange
{
    private readonly Mlp _model;
    private readonly SparsityPlan _plan;
    private readonly List<Entry> _done = new();

    private sealed record Entry(LayerState Layer, PlannedMask Planned, Tensor? OldMask, Tensor? OldMaskedValues, Tensor MaskedValues);

    public MaskExchange(Mlp model, SparsityPlan plan)
    {
        _model = model;
        _plan = plan;
    }

    public void Install()
    {
        // Checked before anything changes: the swaps below write the layers' memory in place.
        foreach (var planned in _plan.Masks)
        {
            var keep = planned.Keep ?? throw new InvalidOperationException("This sparsity plan was disposed.");
            if (planned.Layer >= _model.LayerCount || !keep.shape.SequenceEqual(_model.State[planned.Layer].Weight.shape))
                throw new InvalidOperationException("The model's layers changed since this sparsity plan was made; plan the step again.");
        }
        foreach (var planned in _plan.Masks)
        {
            var layer = _model.State[planned.Layer];
            var keep = planned.Keep!;
            if (layer.Keep is null && planned.KeepsAll) continue;
            var oldMask = layer.Keep;
            var oldHidden = layer.MaskedValues;
            Tensor hidden;
            if (oldHidden is null)
            {
                hidden = empty_like(layer.Weight).DetachFromDisposeScope();
                RawTensor.AdviseHugePages(hidden);
                try { Move(layer.Weight, hidden, null, keep, fillHidden: true); }
                catch { hidden.Dispose(); throw; }
            }
            else
            {
                hidden = oldHidden;
                Move(layer.Weight, hidden, oldMask, keep, fillHidden: false);
            }
            _done.Add(new Entry(layer, planned, oldMask, oldHidden, hidden));
            layer.ReplaceMaskKeepingOld(planned.KeepsAll ? null : keep, planned.KeepsAll ? null : hidden);
            _plan.AfterInstall?.Invoke(planned.Layer);
        }
    }

    public void Undo()
    {
        for (int i = _done.Count - 1; i >= 0; i--)
        {
            var e = _done[i];
            Move(e.Layer.Weight, e.MaskedValues, e.OldMask, e.Planned.Keep!, fillHidden: false);
            e.Layer.ReplaceMaskKeepingOld(e.OldMask, e.OldMaskedValues);
            if (e.OldMaskedValues is null) e.MaskedValues.Dispose();
        }
        _done.Clear();
    }

    public void Complete()
    {
        foreach (var e in _done)
        {
            e.OldMask?.Dispose();
            if (e.Planned.KeepsAll) e.MaskedValues.Dispose();
            else e.Planned.Keep = null; // the layer owns it now
        }
        _done.Clear();
    }

    /// <summary>
    /// Swaps weights and hidden values where the mask changes (<see cref="NativeSelect.Exchange"/>);
    /// the same call undoes it. Other devices take tensor ops with the same effect.
    /// </summary>
    private static void Move(Tensor weight, Tensor hidden, Tensor? oldKeep, Tensor newKeep, bool fillHidden)
    {
        long n = weight.numel();
        nint w = RawTensor.Address(weight, ScalarType.Float32, n), h = RawTensor.Address(hidden, ScalarType.Float32, n);
        nint o = RawTensor.Address(oldKeep, ScalarType.Bool, n), k = RawTensor.Address(newKeep, ScalarType.Bool, n);
        if (n > 0 && w != 0 && h != 0 && k != 0 && (oldKeep is null || o != 0))
        {
            NativeSelect.Exchange(w, h, o, k, n, fillHidden, get_num_threads());
            return;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (fillHidden)
        {
            hidden.copy_(weight.masked_fill(newKeep, 0f));
            weight.masked_fill_(newKeep.logical_not(), 0f);
            return;
        }
        var changed = oldKeep is null ? newKeep.logical_not() : oldKeep.ne(newKeep);
        var newWeight = where(changed, hidden, weight);
        var newHidden = where(changed, weight, hidden);
        weight.copy_(newWeight);
        hidden.copy_(newHidden);
    }
}
